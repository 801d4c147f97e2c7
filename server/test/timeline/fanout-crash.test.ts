import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';
import { deleteKeys, runPrefix } from '../support/redis-keys.ts';
import { REDIS_URL, assertService, createTestDatabase, postgresAvailable, redisAvailable } from '../support/services.ts';
import { collect, connectSocket } from '../support/socket-client.ts';
import { makeApi, type Api } from '../support/test-gateway.ts';

const [pgUp, redisUp] = await Promise.all([postgresAvailable(), redisAvailable()]);

/**
 * DESIGN §5: the fan-out is a durable job, so a gateway killed between a tweet's commit and its
 * fan-out loses no timeline entry. Node A runs with TIMELINE_FANOUT_WORKER=false (it commits
 * tweets and their jobs but applies none), is SIGKILLed, and node B, started afterwards, applies
 * the jobs it finds in the outbox.
 */
describe('fan-out jobs survive a killed gateway', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sql: pg.Client;
  let redis: Redis;
  const prefix = runPrefix();
  const nodes: GatewayProcess[] = [];

  beforeAll(async () => {
    assertService('postgres', pgUp);
    assertService('redis', redisUp);
    db = await createTestDatabase();
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    for (const g of nodes) g.child.kill('SIGKILL');
    await Promise.all(nodes.map((g) => g.exited()));
    await sql?.end();
    await db?.drop();
    if (redis) {
      await deleteKeys(redis, prefix);
      await redis.quit();
    }
  });

  const env = () => ({ DATABASE_URL: db.url, REDIS_URL, REDIS_KEY_PREFIX: prefix, TIMELINE_FANOUT_POLL_MS: '100' });
  const pending = async () => Number((await sql.query<{ n: string }>('SELECT count(*) AS n FROM timeline_jobs')).rows[0]!.n);
  const register = async (api: Api, handle: string) => {
    const r = await api('POST', '/v1/auth/register', { body: { handle, email: `${handle}@example.test`, password: 'long enough pw' } });
    expect(r.status).toBe(201);
    return { id: r.body.user.id as string, handle, token: r.body.accessToken as string };
  };
  const ids = (body: { items: { id: string }[] }) => body.items.map((t) => t.id);

  it('node A commits tweets and dies before their fan-out; node B fans them out and the reader misses nothing', async () => {
    const a = await startGatewayProcess({ ...env(), NODE_ID: '1', TIMELINE_FANOUT_WORKER: 'false' });
    nodes.push(a);
    const apiA = makeApi(a.url);
    const suffix = (process.pid % 10_000).toString(36);
    const writer = await register(apiA, `wr${suffix}`);
    const reader = await register(apiA, `rd${suffix}`);
    expect((await apiA('PUT', `/v1/users/${writer.handle}/follow`, { token: reader.token })).status).toBe(200);
    // The reader's timeline is now warm (rebuilt from SQL, which has the follow), so from here on it
    // changes only through fan-out jobs.
    expect(ids((await apiA('GET', '/v1/timeline/home', { token: reader.token })).body)).toEqual([]);

    // The live push does not wait for the fan-out: the reader's socket gets every tweet while it is held.
    const socket = await connectSocket(a.url, reader.token);
    const pushed = collect(socket, 'tweet');
    const posted: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await apiA('POST', '/v1/tweets', { token: writer.token, body: { text: `tweet ${i}` } });
      expect(r.status).toBe(201);
      posted.unshift(r.body.id as string);
    }
    for (const id of posted) expect((await pushed.next((e) => e.id === id)).tweet.id).toBe(id);
    socket.close();
    expect(await pending()).toBe(6); // the follow's backfill and five fan-outs, committed with their changes
    // Held back: the reader's cached timeline does not have them yet (this is what the job must repair).
    expect(ids((await apiA('GET', '/v1/timeline/home', { token: reader.token })).body)).toEqual([]);

    a.child.kill('SIGKILL');
    await a.exited();

    const b = await startGatewayProcess({ ...env(), NODE_ID: '2' });
    nodes.push(b);
    const apiB = makeApi(b.url);
    // Node B's worker finds the jobs of the dead node in the outbox.
    const deadline = Date.now() + 30_000;
    while ((await pending()) > 0) {
      if (Date.now() > deadline) throw new Error(`outbox still holds ${await pending()} jobs`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const home = await apiB('GET', '/v1/timeline/home', { token: reader.token });
    expect(ids(home.body)).toEqual(posted);
    // …and it came from the cache the jobs filled, not from the SQL fallback.
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toMatch(/flock_timeline_reads_total\{path="cache"\} 1\b/);
    expect(metrics).not.toMatch(/flock_timeline_reads_total\{path="(sql|rebuild)"\}/);
  }, 120_000);
});
