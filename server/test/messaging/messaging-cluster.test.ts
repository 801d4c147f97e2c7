import type { TopicMessage } from '@flock/client/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';
import { assertService, createTestDatabase, postgresAvailable, redisAvailable, REDIS_URL } from '../support/services.ts';
import { collect, connectSocket, type TestSocket } from '../support/socket-client.ts';
import { makeApi, type Api } from '../support/test-gateway.ts';
import { until } from './messaging-suite.ts';

/**
 * Two gateway processes on one PostgreSQL database and one Redis: live topic
 * and queue delivery across nodes, and a node killed (SIGKILL) while
 * publishers are publishing through it loses no accepted message.
 */
describe('messaging across two gateway processes', async () => {
  const [pgUp, redisUp] = await Promise.all([postgresAvailable(), redisAvailable()]);
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  const nodes: GatewayProcess[] = [];
  const sockets: TestSocket[] = [];
  let a: Api;
  let b: Api;
  let token: string;
  let n = 0;

  const publish = (via: Api, topic: string, count: number) =>
    via('POST', `/v1/topics/${topic}/messages`, { token, body: { messages: Array.from({ length: count }, (_, i) => ({ data: i })) } });
  const readAll = async (via: Api, topic: string): Promise<TopicMessage[]> => {
    const out: TopicMessage[] = [];
    for (let after = 0; ; ) {
      const r = await via('GET', `/v1/topics/${topic}/messages?after=${after}&limit=100`, { token });
      expect(r.status).toBe(200);
      out.push(...r.body.items);
      if (!r.body.next) return out;
      after = Number(r.body.next);
    }
  };

  beforeAll(async () => {
    assertService('postgres', pgUp);
    assertService('redis', redisUp);
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url, REDIS_URL, REDIS_KEY_PREFIX: `flock-msg-${process.pid}-${Date.now().toString(36)}:`, // No periodic catch-up during the test: what arrives on node B came through the adapter.
      MESSAGING_SWEEP_MS: '600000' };
    nodes.push(await startGatewayProcess({ ...env, NODE_ID: '1' }));
    nodes.push(await startGatewayProcess({ ...env, NODE_ID: '2' }));
    [a, b] = nodes.map((g) => makeApi(g.url)) as [Api, Api];
    const r = await a('POST', '/v1/auth/register', { body: { handle: `mc_${process.pid % 10000}`, email: `mc${process.pid}@example.test`, password: 'long enough pw' } });
    expect(r.status).toBe(201);
    token = r.body.accessToken;
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const g of nodes) g.child.kill('SIGKILL');
    await Promise.all(nodes.map((g) => g.exited()));
    await db?.drop();
  });

  it('a subscriber on node B receives, in order and once, what is published through nodes A and B', async () => {
    const topic = `cross-${n++}`;
    expect((await a('POST', '/v1/topics', { token, body: { name: topic } })).status).toBe(201);
    const s = await connectSocket(nodes[1]!.url, token);
    sockets.push(s);
    const got = collect(s, 'topic:message');
    expect(await s.emitWithAck('topic:subscribe', { name: topic })).toEqual({ ok: true, fromOffset: 1 });
    const calls = await Promise.all(Array.from({ length: 20 }, (_, i) => publish(i % 2 ? b : a, topic, 5)));
    expect(calls.every((c) => c.status === 201)).toBe(true);
    await got.next((e) => e.message.offset === 100, 15_000);
    expect(got.items.map((e) => e.message.offset)).toEqual(Array.from({ length: 100 }, (_, k) => k + 1));
  });

  it('a queue consumer on node B gets what is sent through node A', async () => {
    const queue = `q-${n++}`;
    expect((await a('POST', '/v1/queues', { token, body: { name: queue } })).status).toBe(201);
    const s = await connectSocket(nodes[1]!.url, token);
    sockets.push(s);
    const got = collect(s, 'queue:message');
    expect(await s.emitWithAck('queue:consume', { name: queue, max: 50 })).toEqual({ ok: true });
    const sent = await a('POST', `/v1/queues/${queue}/messages`, { token, body: { messages: [{ data: 'one' }, { data: 'two' }] } });
    await got.next((e) => e.message.id === sent.body.items[1].id);
    expect(got.items.map((e) => e.message.data).sort()).toEqual(['one', 'two']);
    const ack = await s.emitWithAck('queue:ack', { name: queue, ids: got.items.map((e) => e.message.id) });
    expect(ack).toMatchObject({ ok: true, missing: [] });
  });

  it('a node killed while publishers publish through it loses no accepted message, and a restarted node continues the offsets', async () => {
    const topic = `kill-${n++}`;
    const queue = `kq-${n++}`;
    expect((await a('POST', '/v1/topics', { token, body: { name: topic } })).status).toBe(201);
    expect((await a('POST', '/v1/queues', { token, body: { name: queue } })).status).toBe(201);
    const accepted: TopicMessage[] = [];
    const sent: string[] = [];
    let stop = false;
    const publishers = Array.from({ length: 4 }, async (_, i) => {
      while (!stop) {
        try {
          if (i === 3) {
            const r = await a('POST', `/v1/queues/${queue}/messages`, { token, body: { messages: [{ data: 'q' }, { data: 'r' }] } });
            if (r.status === 201) sent.push(...r.body.items.map((m: { id: string }) => m.id));
            continue;
          }
          const r = await publish(a, topic, 3);
          if (r.status === 201) accepted.push(...r.body.items);
        } catch {
          return; // the node is gone: the connection failed, nothing was accepted by this call
        }
      }
    });
    await until(async () => accepted.length, (x) => x >= 150);
    nodes[0]!.child.kill('SIGKILL');
    await nodes[0]!.exited();
    stop = true;
    await Promise.all(publishers);

    const stored = await readAll(b, topic);
    const offsets = stored.map((m) => m.offset);
    expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, k) => k + 1)); // gap-free
    const byId = new Map(stored.map((m) => [m.id, m]));
    for (const m of accepted) expect(byId.get(m.id)).toEqual(m);
    expect(sent.length).toBeGreaterThan(0);
    const have = new Set<string>();
    for (;;) {
      const r = await b('POST', `/v1/queues/${queue}/receive`, { token, body: { max: 100 } });
      if (r.body.items.length === 0) break;
      for (const m of r.body.items as { id: string }[]) have.add(m.id);
    }
    expect(sent.filter((id) => !have.has(id))).toEqual([]);

    nodes[0] = await startGatewayProcess({ ...env, NODE_ID: '1' });
    a = makeApi(nodes[0].url);
    const again = await publish(a, topic, 1);
    expect(again.body.items[0].offset).toBe(offsets.length + 1);
    expect((await readAll(a, topic)).length).toBe(offsets.length + 1);
  });
});
