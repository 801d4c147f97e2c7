import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireWrk, runWrk } from '../bench/wrk.ts';

describe('wrk load generator (timeline benchmark GETs)', () => {
  it('refuses to run without wrk, saying how to install it', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'no-wrk-'));
    const saved = process.env.PATH;
    process.env.PATH = empty;
    try {
      expect(() => requireWrk()).toThrow(/wrk, which is not installed[\s\S]*apt-get install wrk/);
    } finally {
      process.env.PATH = saved;
      await rm(empty, { recursive: true, force: true });
    }
  });

  // Never skipped: without wrk these fail with the install hint (`bash .ci/run` installs it).
  describe('against a local server', () => {
    let server: http.Server;
    let url: string;
    const seen: { path: string; auth: string | undefined }[] = [];
    let served = 0;
    beforeAll(async () => {
      requireWrk();
      server = http.createServer((req, res) => {
        served++;
        if (seen.length < 5) seen.push({ path: req.url ?? '', auth: req.headers.authorization });
        res.writeHead(req.url?.startsWith('/missing') ? 404 : 200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    // No server when wrk is missing (beforeAll failed first): only the install hint is reported.
    afterAll(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

    it('reports responses, rate, latency percentiles and its own CPU time; sends the path and headers', async () => {
      const r = await runWrk({ url, path: '/v1/x?limit=20', headers: { authorization: 'Bearer t0k' }, connections: 2, durationSeconds: 1 });
      expect(r.responses).toBeGreaterThan(100);
      expect(r.errors).toBe(0);
      expect(r.requestsPerSecond).toBeCloseTo(r.responses / r.durationSeconds, 6);
      expect(r.durationSeconds).toBeGreaterThan(0.9);
      expect(r.latencyMs.p50).toBeGreaterThan(0);
      expect(r.latencyMs.p50).toBeLessThanOrEqual(r.latencyMs.p99);
      expect(r.latencyMs.p99).toBeLessThanOrEqual(r.latencyMs.max);
      expect(r.cpuSeconds).not.toBeNull();
      expect(r.cpuSeconds!).toBeGreaterThan(0);
      expect(seen[0]).toEqual({ path: '/v1/x?limit=20', auth: 'Bearer t0k' });
    });

    it('spreads its connections over several servers, one thread each, in one report', async () => {
      const second = http.createServer((req, res) => {
        hits.second++;
        res.writeHead(200).end('{}');
      });
      const hits = { second: 0 };
      await new Promise<void>((r) => second.listen(0, '127.0.0.1', r));
      try {
        const before = served;
        const other = `http://127.0.0.1:${(second.address() as AddressInfo).port}`;
        const r = await runWrk({ url: [url, other], path: '/v1/y', headers: {}, connections: 2, durationSeconds: 1 });
        expect(r.errors).toBe(0);
        // Both servers answered, and the report counts both.
        expect(hits.second).toBeGreaterThan(50);
        expect(served - before).toBeGreaterThan(50);
        expect(r.responses).toBeGreaterThanOrEqual(0.95 * (hits.second + served - before));
        for (const connections of [1, 3]) {
          await expect(runWrk({ url: [url, other], path: '/', headers: {}, connections, durationSeconds: 1 })).rejects.toThrow(/same number of connections for every URL/);
        }
      } finally {
        await new Promise<void>((r) => second.close(() => r()));
      }
    });

    it('holds a paced load with a delay between a connection\u2019s requests', async () => {
      const r = await runWrk({ url, path: '/v1/z', headers: {}, connections: 2, durationSeconds: 1, delayMs: 10 });
      expect(r.errors).toBe(0);
      // Two connections, each at most one request per 10 ms: at most ~200 in a second.
      expect(r.responses).toBeGreaterThan(50);
      expect(r.responses).toBeLessThanOrEqual(210);
    });

    it('counts error statuses as errors', async () => {
      const r = await runWrk({ url, path: '/missing', headers: {}, connections: 1, durationSeconds: 1 });
      expect(r.responses).toBeGreaterThan(0);
      expect(r.unexpectedStatus).toBe(r.responses);
      expect(r.errors).toBe(r.responses);
    });
  });
});
