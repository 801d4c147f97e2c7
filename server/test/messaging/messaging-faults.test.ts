import type { TopicMessage } from '@flock/client/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertService, createTestDatabase, postgresAvailable } from '../support/services.ts';
import { collect, connectSocket, type TestSocket } from '../support/socket-client.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { startTestGateway, type TestGateway, type TestUser } from '../support/test-gateway.ts';
import { until } from './messaging-suite.ts';

/**
 * PostgreSQL goes away (the link is cut through a TCP proxy; the shared server is never
 * restarted) while publishers publish and a subscriber listens: calls fail with 503 meanwhile,
 * nothing that was accepted is lost, offsets stay gap-free, and the subscriber gets everything
 * once, in order, after the database is back.
 */
describe('messaging while PostgreSQL is unreachable', async () => {
  const available = await postgresAvailable();
  let t: TestGateway;
  let proxy: TcpProxy;
  let drop: () => Promise<void>;
  let u: TestUser;
  let socket: TestSocket | undefined;

  beforeAll(async () => {
    assertService('postgres', available);
    const db = await createTestDatabase();
    drop = db.drop;
    const url = new URL(db.url);
    proxy = new TcpProxy(url.hostname, Number(url.port || 5432));
    url.port = String(await proxy.start());
    t = await startTestGateway('postgres', 'uws', { DATABASE_URL: url.toString(), MESSAGING_SWEEP_MS: 200 });
    u = await t.register('pgo');
  });
  afterAll(async () => {
    socket?.close();
    await t?.close();
    await proxy?.cut();
    await drop?.();
  });

  it('loses no accepted message and delivers everything to a live subscriber after the outage', async () => {
    const topic = `outage-${process.pid}`;
    expect((await t.api('POST', '/v1/topics', { token: u.accessToken, body: { name: topic } })).status).toBe(201);
    socket = await connectSocket(t.url, u.accessToken);
    const got = collect(socket, 'topic:message');
    expect(await socket.emitWithAck('topic:subscribe', { name: topic, fromOffset: 1 })).toMatchObject({ ok: true });

    const accepted: TopicMessage[] = [];
    const failures: number[] = [];
    let stop = false;
    const publishers = Array.from({ length: 3 }, async () => {
      while (!stop) {
        const r = await t.api('POST', `/v1/topics/${topic}/messages`, { token: u.accessToken, body: { messages: [{ data: 1 }, { data: 2 }] } });
        if (r.status === 201) accepted.push(...r.body.items);
        else {
          failures.push(r.status);
          expect(r.body.error.code).toBe('FLOCK_ERR_UNAVAILABLE');
          await new Promise((res) => setTimeout(res, 20));
        }
      }
    });
    await until(async () => accepted.length, (n) => n >= 60);
    await proxy.cut();
    await until(async () => failures.length, (n) => n >= 5);
    const duringOutage = accepted.length;
    await proxy.restore();
    await until(async () => accepted.length, (n) => n >= duringOutage + 60, 20_000);
    stop = true;
    await Promise.all(publishers);
    expect(new Set(failures)).toEqual(new Set([503]));

    const stored: TopicMessage[] = [];
    for (let after = 0; ; ) {
      const r = await t.api('GET', `/v1/topics/${topic}/messages?after=${after}&limit=100`, { token: u.accessToken });
      stored.push(...r.body.items);
      if (!r.body.next) break;
      after = Number(r.body.next);
    }
    expect(stored.map((m) => m.offset)).toEqual(stored.map((_, k) => k + 1));
    const ids = new Set(stored.map((m) => m.id));
    expect(accepted.filter((m) => !ids.has(m.id))).toEqual([]);

    await got.next((e) => e.message.offset === stored.length, 20_000);
    expect(got.items.map((e) => e.message.offset)).toEqual(stored.map((m) => m.offset));
  });
});
