import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertService, createTestDatabase, postgresAvailable } from '../support/services.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { startTestGateway, type TestGateway, type TransportName } from '../support/test-gateway.ts';

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('PostgreSQL unreachable', async () => {
  const available = await postgresAvailable();
  describe('with its services', () => {
    let t: TestGateway;
    let proxy: TcpProxy;
    let drop: () => Promise<void>;

    beforeAll(async () => {
      assertService('postgres', available);
      const db = await createTestDatabase();
      drop = db.drop;
      const u = new URL(db.url);
      proxy = new TcpProxy(u.hostname, Number(u.port || 5432));
      u.port = String(await proxy.start());
      t = await startTestGateway('pglite', 'uws', { DATABASE_URL: u.toString() });
    });
    afterAll(async () => {
      await t?.close();
      await proxy?.cut();
      await drop?.();
    });

    it('answers 503 JSON while the database is down, never crashes, and resumes by itself', async () => {
      const u = await t.register('pgd');
      const tw = await t.api('POST', '/v1/tweets', { token: u.accessToken, body: { text: 'before the outage' } });
      expect(tw.status).toBe(201);

      await proxy.cut();
      const ready = await t.api('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.postgres).toMatch(/^down/);
      expect((await t.api('GET', '/healthz')).status).toBe(200);
      // The driver's own reason stays on the error as its cause, for the logs (clients get the generic message).
      const failed = (await t.gw.db.query('SELECT 1').catch((e: unknown) => e)) as Error & { code?: string; cause?: Error & { code?: string } };
      expect(failed.code).toBe('FLOCK_ERR_UNAVAILABLE');
      expect(`${failed.cause?.code} ${failed.cause?.message}`).toMatch(/ECONNREFUSED|ECONNRESET|Connection terminated|timeout/);
      for (const [method, path, body] of [
        ['GET', `/v1/tweets/${tw.body.id}`, undefined],
        ['POST', '/v1/tweets', { text: 'during the outage' }],
        ['GET', '/v1/timeline/home', undefined],
        ['POST', '/v1/auth/login', { handle: u.handle, password: u.password }],
      ] as const) {
        const r = await t.api(method, path, { token: u.accessToken, body });
        expect({ path, status: r.status, code: r.body.error?.code }).toEqual({ path, status: 503, code: 'FLOCK_ERR_UNAVAILABLE' });
        expect(r.text).not.toMatch(/ECONNREFUSED|at .*\.ts:/);
      }

      await proxy.restore();
      const back = await until(() => t.api('GET', '/readyz'), (r) => r.status === 200, 10_000);
      expect(back.status).toBe(200);
      const after = await t.api('POST', '/v1/tweets', { token: u.accessToken, body: { text: 'after the outage' } });
      expect(after.status).toBe(201);
      const list = await t.api('GET', `/v1/users/${u.handle}/tweets`);
      expect(list.body.items.map((x: { text: string }) => x.text)).toEqual(['after the outage', 'before the outage']);
    });
  });
});

for (const transport of ['uws', 'node'] as TransportName[]) {
  describe(`clients misbehaving on ${transport}`, () => {
    let t: TestGateway;
    let port: number;
    beforeAll(async () => {
      t = await startTestGateway('pglite', transport);
      port = t.gw.port;
    });
    afterAll(async () => {
      await t?.close();
    });

    it('survives clients that abort mid-body and mid-response', async () => {
      const u = await t.register('abo');
      const raw = (payload: string) =>
        new Promise<void>((resolve) => {
          const s = net.connect(port, '127.0.0.1', () => {
            s.write(payload);
            // Give the server the bytes, then vanish.
            setImmediate(() => {
              s.destroy();
              resolve();
            });
          });
          s.on('error', () => resolve());
        });
      const body = JSON.stringify({ text: 'aborted' });
      const head = (len: number) =>
        `POST /v1/tweets HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${u.accessToken}\r\ncontent-type: application/json\r\ncontent-length: ${len}\r\n\r\n`;
      await Promise.all([
        ...Array.from({ length: 20 }, () => raw(head(1000) + body)), // body cut short
        ...Array.from({ length: 20 }, () => raw(head(Buffer.byteLength(body)) + body)), // gone before the answer
        ...Array.from({ length: 20 }, () => raw(`GET /v1/timeline/home HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${u.accessToken}\r\n\r\n`)),
      ]);
      expect((await t.api('GET', '/healthz')).status).toBe(200);
      const list = await t.api('GET', `/v1/users/${u.handle}/tweets?limit=100`);
      // Cut bodies never became tweets; complete ones may have.
      expect(list.body.items.every((x: { text: string }) => x.text === 'aborted')).toBe(true);
      expect(list.body.items.length).toBeLessThanOrEqual(20);
    });

    it('refuses a chunked body that grows past the limit with 413', async () => {
      const u = await t.register('chk');
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port, method: 'POST', path: '/v1/tweets', headers: { authorization: `Bearer ${u.accessToken}`, 'content-type': 'application/json' } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.write('{"text":"');
        const chunk = 'x'.repeat(16 * 1024);
        let sent = 0;
        const pump = () => {
          while (sent < 8 && req.write(chunk)) sent++;
          if (sent < 8) req.once('drain', pump);
          else req.end('"}');
        };
        pump();
      });
      expect(status).toBe(413);
      expect((await t.api('GET', `/v1/users/${u.handle}/tweets`)).body.items).toEqual([]);
      expect((await t.api('GET', '/healthz')).status).toBe(200);
    });
  });
}

describe('uWS fallback', () => {
  it('uses node:http when UWS_USE_FALLBACK is set, and says so in /metrics', async () => {
    const t = await startTestGateway('pglite', 'uws', { HTTP_TRANSPORT: 'auto', UWS_USE_FALLBACK: 'true' });
    try {
      expect(t.gw.transport.name).toBe('node');
      const m = await t.api('GET', '/metrics');
      expect(m.text).toMatch(/flock_http_transport_info\{transport="node",fallback="true",reason="UWS_USE_FALLBACK is set"\} 1/);
      expect((await t.api('GET', '/healthz')).status).toBe(200);
    } finally {
      await t.close();
    }
  }, 90_000); // starts its own embedded-database gateway: 3 s quiet, over 30 s on a busy machine
});
