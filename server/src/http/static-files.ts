import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Router } from './router.ts';
import type { HttpHandler, HttpRequest, HttpResponse } from './types.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
};

/** Paths that belong to the API and the other services, never to files, even when no route matches. */
const RESERVED = /^\/(?:v\d+|hls|socket\.io|\.well-known|healthz|readyz|metrics|openapi\.json)(?:\/|$)/;

/** esbuild's `[name]-[hash]` output: the content decides the name, so it may be cached for good. */
const HASHED = /-[A-Z0-9]{8}\.[a-z]+$/;

interface Cached {
  mtimeMs: number;
  size: number;
  body: Buffer;
  etag: string;
}

/**
 * Serves the files of one directory (the demo web app) for GET and HEAD requests that no route
 * answers; everything else goes to `next`. Only regular files inside the directory are served
 * (no `..`, no dotfiles, no symlinks out of it); `/` is `index.html`.
 */
export function withStaticFiles(root: string, router: Router, next: HttpHandler): HttpHandler {
  const base = path.resolve(root);
  const cache = new Map<string, Cached>();
  // The directory's own real path, resolved once it exists (it may be built after the start).
  let baseReal: string | null = null;
  const realBase = async (): Promise<string> => (baseReal ??= await realpath(base));

  const resolve = async (urlPath: string): Promise<string | null> => {
    let rel: string;
    try {
      rel = decodeURIComponent(urlPath === '/' ? '/index.html' : urlPath);
    } catch {
      return null;
    }
    if (rel.includes('\0') || rel.includes('\\') || rel.split('/').some((seg) => seg === '..' || seg.startsWith('.'))) return null;
    const file = path.resolve(base, `.${rel}`);
    if (!file.startsWith(base + path.sep)) return null;
    try {
      const real = await realpath(file);
      return real.startsWith((await realBase()) + path.sep) ? real : null;
    } catch {
      return null; // missing
    }
  };

  const load = async (file: string): Promise<Cached | null> => {
    const st = await stat(file).catch(() => null);
    if (!st?.isFile()) return null;
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit;
    const body = await readFile(file);
    const entry = { mtimeMs: st.mtimeMs, size: st.size, body, etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 20)}"` };
    cache.set(file, entry);
    return entry;
  };

  return async (req: HttpRequest): Promise<HttpResponse> => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || RESERVED.test(req.path) || router.match('GET', req.path).kind !== 'not-found') return next(req);
    const file = await resolve(req.path);
    const entry = file ? await load(file) : null;
    if (!file || !entry) return next(req);
    const name = path.basename(file);
    const headers: Record<string, string> = {
      'content-type': TYPES[path.extname(name)] ?? 'application/octet-stream',
      // index.html and app.js keep their names across builds: revalidate each time (cheap with the ETag).
      'cache-control': HASHED.test(name) ? 'public, max-age=31536000, immutable' : 'no-cache',
      etag: entry.etag,
      'x-content-type-options': 'nosniff',
    };
    if (name.endsWith('.html')) {
      headers['content-security-policy'] =
        "default-src 'self'; connect-src 'self' ws: wss: https: http:; media-src 'self' blob: https: http:; img-src 'self' data: https:; style-src 'self'; script-src 'self'; worker-src 'self' blob:";
      headers['referrer-policy'] = 'no-referrer';
    }
    if (req.headers['if-none-match'] === entry.etag) return { status: 304, headers };
    return { status: 200, headers, body: req.method === 'HEAD' ? '' : entry.body };
  };
}
