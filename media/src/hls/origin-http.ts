import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MediaLog } from '../log.ts';
import type { HlsOrigin, OriginAnswer } from './origin.ts';

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  'access-control-allow-headers': 'range',
  'access-control-max-age': '600',
};

const ID = /^\d{1,20}$/;

function error(status: number, code: string, message: string): { status: number; body: string } {
  return { status, body: JSON.stringify({ error: { code, message } }) };
}

/** Maps a request path and query to the origin: `/hls/<id>/master.m3u8`, `/hls/<id>/<rendition>/<file>`. */
async function route(origin: HlsOrigin, url: URL): Promise<OriginAnswer | null> {
  const parts = url.pathname.split('/');
  if (parts[0] !== '' || parts[1] !== 'hls' || !ID.test(parts[2] ?? '')) return null;
  if (parts.length === 4) return origin.serve(parts[2]!, null, parts[3]!, url.searchParams);
  if (parts.length === 5) return origin.serve(parts[2]!, parts[3]!, parts[4]!, url.searchParams);
  return null;
}

/**
 * The HLS origin of a standalone media worker, on plain node:http (the gateway serves the same
 * origin through its own router). Same headers, same answers: 400/404/503 bodies use the
 * gateway's error format.
 */
export function startOriginServer(origin: HlsOrigin, host: string, port: number, log: MediaLog): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const send = (status: number, headers: Record<string, string>, body: Buffer | string) => {
      res.writeHead(status, { ...CORS, ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method === 'OPTIONS') return send(204, {}, '');
    const url = new URL(req.url ?? '/', 'http://origin');
    if (url.pathname === '/healthz') return send(200, { 'content-type': 'application/json' }, '{"status":"ok"}');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const e = error(405, 'FLOCK_ERR_METHOD_NOT_ALLOWED', 'Use GET');
      return send(e.status, { 'content-type': 'application/json; charset=utf-8', allow: 'GET, HEAD, OPTIONS' }, e.body);
    }
    route(origin, url).then(
      (a) => {
        const json = { 'content-type': 'application/json; charset=utf-8' };
        if (a?.kind === 'file') return send(200, a.headers, a.bytes);
        const e =
          a?.kind === 'bad-request'
            ? error(400, 'FLOCK_ERR_VALIDATION', a.message)
            : a?.kind === 'timeout'
              ? error(503, 'FLOCK_ERR_UNAVAILABLE', 'The requested part did not appear in time; reload the playlist')
              : error(404, 'FLOCK_ERR_NOT_FOUND', 'No such HLS file');
        send(e.status, json, e.body);
      },
      (err: unknown) => {
        log.error({ err: (err as Error).message }, 'origin failed');
        const e = error(500, 'FLOCK_ERR_INTERNAL', 'Internal error');
        send(e.status, { 'content-type': 'application/json; charset=utf-8' }, e.body);
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
