import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/test-gateway.ts';

/** The gateway serves the demo web app's files at `/` without shadowing any API or service path. */
describe.each(['uws', 'node'] as const)('static files of the web app (%s)', (transport) => {
  let gw: TestGateway;
  let dir: string;
  let outside: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'flock-web-'));
    outside = mkdtempSync(path.join(tmpdir(), 'flock-secret-'));
    writeFileSync(path.join(outside, 'secret.txt'), 'do not serve');
    mkdirSync(path.join(dir, 'chunks'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Flock</title>');
    writeFileSync(path.join(dir, 'app.js'), 'console.log("app")');
    writeFileSync(path.join(dir, 'styles.css'), 'body{}');
    writeFileSync(path.join(dir, 'chunks', 'hls.light-KUGXC4JG.js'), 'export{}');
    writeFileSync(path.join(dir, '.env'), 'SECRET=1');
    symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'link.txt'));
    gw = await startTestGateway('pglite', transport, { WEB_APP_DIR: dir });
  });
  afterAll(async () => {
    await gw?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  const get = (p: string, headers: Record<string, string> = {}) => fetch(gw.url + p, { headers });

  it('serves index.html at / and files with their content types; fixed names revalidate, hashed ones are immutable', async () => {
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await index.text()).toContain('<title>Flock</title>');

    const js = await get('/app.js');
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('no-cache');
    expect((await get('/styles.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
    const chunk = await get('/chunks/hls.light-KUGXC4JG.js');
    expect(chunk.status).toBe(200);
    expect(chunk.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await get('/app.js');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    const again = await get('/app.js', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it.each([
    '/../package.json',
    '/%2e%2e/package.json',
    '/chunks/..%2f..%2fpackage.json',
    '/..%5c..%5cpackage.json',
    '/.env',
    '/link.txt',
    '/%00index.html',
    '/chunks',
    '/nope.js',
    '/%E0%A4%A',
  ])('never serves %s (404 JSON from the API)', async (p) => {
    // fetch normalises "/../" itself; send the raw path over a socket-level request where it matters.
    const res = await rawGet(gw.url, p);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.body).not.toContain('do not serve');
    expect(res.body).not.toContain('SECRET');
    expect(res.body).not.toContain('"name": "flock"');
  });

  it('does not shadow the API or the other services', async () => {
    expect((await get('/healthz')).headers.get('content-type')).toContain('application/json');
    const missing = await get('/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error.code).toBe('FLOCK_ERR_ROUTE_NOT_FOUND');
    expect((await get('/hls/123/index.m3u8')).status).toBe(404); // an unknown stream, answered by the HLS origin
    expect((await get('/openapi.json')).headers.get('content-type')).toContain('application/json');
    const post = await fetch(`${gw.url}/`, { method: 'POST' });
    expect(post.status).toBe(404);
    expect(((await post.json()) as any).error.code).toBe('FLOCK_ERR_ROUTE_NOT_FOUND');
  });
});

/** A GET with the path sent exactly as given (fetch would resolve dot segments first). */
async function rawGet(base: string, rawPath: string): Promise<{ status: number; body: string }> {
  const { request } = await import('node:http');
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: rawPath, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
