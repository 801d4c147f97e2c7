/**
 * Builds @flock/client: ESM, CJS and .d.ts for bundlers and Node, a browser bundle, and the demo
 * web app the gateway serves at `/`.
 *
 *   node --import tsx client-sdk/scripts/build.ts [package|demo|all]   (default: all)
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = path.join(ROOT, 'src/index.ts');
// Every browser of the last few years, React Native's Hermes and Node 18+ run ES2020.
const TARGET = ['es2020'];

export interface BundleReport {
  file: string;
  bytes: number;
  gzipBytes: number;
  /** Every module the bundle took in (to check, e.g., that no Node built-in slipped in). */
  inputs: string[];
}

async function bundle(opts: BuildOptions & { outfile: string }): Promise<BundleReport> {
  const result = await build({ bundle: true, metafile: true, logLevel: 'silent', ...opts });
  const bytes = readFileSync(opts.outfile);
  return {
    file: opts.outfile,
    bytes: bytes.length,
    gzipBytes: gzipSync(bytes, { level: 9 }).length,
    inputs: Object.keys(result.metafile!.inputs),
  };
}

/** The browser bundle (minified ESM, socket.io-client left as an import): what the size target is about. */
export function buildBrowserBundle(outDir: string): Promise<BundleReport> {
  return bundle({
    entryPoints: [ENTRY],
    outfile: path.join(outDir, 'flock-client.browser.min.js'),
    format: 'esm',
    platform: 'browser',
    target: TARGET,
    minify: true,
    external: ['socket.io-client'],
  });
}

/** ESM and CJS for Node, React Native and bundlers, the browser bundles, and the type declarations. */
export async function buildPackage(outDir = path.join(ROOT, 'dist')): Promise<BundleReport[]> {
  rmSync(outDir, { recursive: true, force: true });
  const common: BuildOptions = { entryPoints: [ENTRY], platform: 'neutral', target: TARGET, external: ['socket.io-client'], sourcemap: true };
  const reports = await Promise.all([
    bundle({ ...common, format: 'esm', outfile: path.join(outDir, 'index.js') }),
    bundle({ ...common, format: 'cjs', outfile: path.join(outDir, 'index.cjs') }),
    buildBrowserBundle(outDir),
    // One file for a <script> tag: socket.io-client included, global `FlockClient`.
    bundle({
      entryPoints: [ENTRY],
      outfile: path.join(outDir, 'flock-client.iife.min.js'),
      format: 'iife',
      globalName: 'FlockClient',
      platform: 'browser',
      target: TARGET,
      minify: true,
    }),
  ]);
  execFileSync(process.execPath, [path.join(ROOT, '../node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', path.join(outDir, 'types')], {
    stdio: 'inherit',
  });
  // Sources import with .ts extensions (run as is by tsx); published declarations point at .js.
  for (const file of walk(path.join(outDir, 'types'))) {
    writeFileSync(file, readFileSync(file, 'utf8').replace(/(from\s+'\.{1,2}\/[^']+)\.ts'/g, "$1.js'"));
  }
  return reports;
}

/** The demo web app: static files for the gateway's `/` (hls.js split out, loaded by the player only). */
export async function buildDemo(outDir = path.join(ROOT, 'demo/dist')): Promise<void> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: { app: path.join(ROOT, 'demo/src/main.ts') },
    outdir: outDir,
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: TARGET,
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  });
  for (const f of ['index.html', 'styles.css']) cpSync(path.join(ROOT, 'demo/public', f), path.join(outDir, f));
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const kB = (n: number) => `${(n / 1024).toFixed(1)} kB`;

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const what = process.argv[2] ?? 'all';
  if (!['package', 'demo', 'all'].includes(what)) throw new Error(`usage: build.ts [package|demo|all], not ${what}`);
  if (what !== 'demo') {
    for (const r of await buildPackage()) console.log(`${path.relative(ROOT, r.file).padEnd(36)} ${kB(r.bytes).padStart(9)}  ${kB(r.gzipBytes).padStart(9)} gzip`);
  }
  if (what !== 'package') {
    await buildDemo();
    console.log('demo/dist: built');
  }
}
