import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPackage, type BundleReport } from '../scripts/build.ts';

const SDK = fileURLToPath(new URL('..', import.meta.url));
const TSC = path.join(SDK, '../node_modules/typescript/bin/tsc');
/** Size target of the browser bundle, min+gzip, without socket.io-client (issue 5). */
const BROWSER_GZIP_LIMIT = 25 * 1024;

/** The published build: bundles that load, declarations a strict consumer compiles against, and the size target. */
describe('the @flock/client build', () => {
  // Inside client-sdk/node_modules, so the bundles resolve socket.io-client as an installed package would.
  const out = path.join(SDK, 'node_modules', `.build-test-${process.pid}`);
  let reports: BundleReport[];

  beforeAll(async () => {
    reports = await buildPackage(out);
  }, 120_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  const report = (name: string) => reports.find((r) => path.basename(r.file) === name)!;

  it(`keeps the browser bundle under ${BROWSER_GZIP_LIMIT / 1024} kB min+gzip, without socket.io-client and without Node built-ins`, () => {
    const browser = report('flock-client.browser.min.js');
    console.log(`browser bundle: ${browser.bytes} bytes minified, ${browser.gzipBytes} bytes gzip`);
    expect(browser.gzipBytes).toBeLessThan(BROWSER_GZIP_LIMIT);
    // Only the SDK's own sources went in; its one import is socket.io-client.
    expect(browser.inputs.every((i) => i.startsWith('client-sdk/src/'))).toBe(true);
    const code = readFileSync(browser.file, 'utf8');
    const imports = [...code.matchAll(/(?:from|import)\s*["']([^"']+)["']/g)].map((m) => m[1]);
    expect(new Set(imports)).toEqual(new Set(['socket.io-client']));
    expect(code).not.toMatch(/\bprocess\.env\b|\bBuffer\.|node:/);
  });

  it('bundles socket.io-client into the script-tag build, still without Node built-ins', () => {
    const iife = report('flock-client.iife.min.js');
    expect(iife.inputs.some((i) => i.includes('socket.io-client'))).toBe(true);
    expect(iife.inputs.some((i) => i.startsWith('node:'))).toBe(false);
  });

  it('loads as ESM and as CommonJS', async () => {
    const esm = (await import(pathToFileURL(path.join(out, 'index.js')).href)) as Record<string, unknown>;
    const cjs = createRequire(import.meta.url)(path.join(out, 'index.cjs')) as Record<string, unknown>;
    for (const mod of [esm, cjs]) {
      expect(typeof mod.createFlockClient).toBe('function');
      expect(typeof mod.countGraphemes).toBe('function');
      expect(mod.MAX_TWEET_GRAPHEMES).toBe(280);
    }
  });

  it('ships declarations a strict TypeScript consumer compiles against', () => {
    const dir = path.join(out, 'consumer');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, 'use.ts'),
      `import { createFlockClient, webStorageTokens, type Tweet } from '../types/index.js';
const client = createFlockClient({ baseUrl: 'https://flock.example', storage: webStorageTokens(localStorage) });
client.on('tweet', (e) => { const t: Tweet = e.tweet; console.log(t.text); });
client.on('connection', (s) => console.log(s.state));
// @ts-expect-error: not an event of the protocol
client.on('no-such-event', () => {});
void client.tweets.create({ text: 'hi' }).then((t) => t.id.toUpperCase());
`,
    );
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2023', 'DOM'], types: [], skipLibCheck: false }, files: ['use.ts'] }),
    );
    execFileSync(process.execPath, [TSC, '-p', dir], { stdio: 'pipe' });
  }, 120_000);

  it('the demo web app type-checks against the DOM (the root config has no DOM, on purpose)', () => {
    execFileSync(process.execPath, [TSC, '-p', path.join(SDK, 'demo/tsconfig.json'), '--noEmit'], { stdio: 'pipe' });
  }, 120_000);
});
