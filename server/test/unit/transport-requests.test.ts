import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createTransport } from '../../src/http/create-transport.ts';
import type { HttpRequest, Transport } from '../../src/http/types.ts';

/**
 * The request objects the transports hand to the dispatcher. They must be ordinary fast objects
 * sharing one hidden class: an object literal with its own `get ip()` per request was a
 * dictionary-mode object whose accessor pair V8 allocates in the old generation, and that pair
 * kept each request's closures, headers and response alive past every scavenge (about 1 KB per
 * request promoted, 2-5 ms scavenges and more full collections: the tail of every route; see
 * docs/benchmarks.md "Timeline p99").
 */
setFlagsFromString('--allow-natives-syntax');
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

/** Sends raw HTTP/1.1 requests pipelined on one connection; resolves once every one has its 200. */
function send(port: number, requests: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(requests.join('')));
    let seen = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      seen += chunk;
      if ((seen.match(/HTTP\/1\.1 200/g) ?? []).length === requests.length) {
        socket.end();
        resolve();
      }
    });
    socket.on('error', reject);
  });
}

let transport: Transport | null = null;
afterEach(() => {
  transport?.close();
  transport = null;
});

describe.each(['uws', 'node'] as const)('%s transport requests', (kind) => {
  it('are fast objects of one shape, with their method, path, query, body and address', async () => {
    const seen: { req: HttpRequest; ip: string }[] = [];
    ({ transport } = createTransport(loadConfig({ HTTP_TRANSPORT: kind }), {
      handler: async (req) => {
        seen.push({ req, ip: req.ip });
        return { status: 200, body: { ok: true } };
      },
      maxBodyBytes: 1024,
      trustProxy: false,
      onError: () => {},
    }));
    expect(transport.name).toBe(kind);
    const port = await transport.listen('127.0.0.1', 0);
    const get = (path: string) => `GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`;
    const post = (body: string) => `POST /b HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
    await send(port, [get('/a?x=1'), get('/v1/timeline/home?limit=20'), post('{"a":1}'), get('/c')]);

    expect(seen.map((s) => [s.req.method, s.req.path, s.ip])).toEqual([
      ['GET', '/a', '127.0.0.1'],
      ['GET', '/v1/timeline/home', '127.0.0.1'],
      ['POST', '/b', '127.0.0.1'],
      ['GET', '/c', '127.0.0.1'],
    ]);
    expect(seen[0]!.req.query.get('x')).toBe('1');
    expect(seen[2]!.req.body?.toString()).toBe('{"a":1}');
    for (const { req } of seen) {
      expect(hasFastProperties(req)).toBe(true);
      expect(haveSameMap(req, seen[0]!.req)).toBe(true);
    }
  });
});
