import { randomBytes } from 'node:crypto';
import { DISCONNECT_CODES } from '@flock/client/protocol';
import { Cluster } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { RedisRateLimiter } from '../../src/rate-limit/redis-rate-limiter.ts';
import { openRedis } from '../../src/redis/open-redis.ts';
import { redisTarget } from '../../src/redis/redis-target.ts';
import { rateLimiterContract } from '../rate-limit/rate-limiter.contract.ts';
import { startRedisCluster, until, type RedisCluster } from '../support/redis-cluster.ts';
import { assertService, createTestDatabase, postgresAvailable, REDIS_SERVER_HINT, redisServerBinary } from '../support/services.ts';
import { collect, connectSocket, serverClosed, type TestSocket } from '../support/socket-client.ts';
import { startTestGateway, type TestGateway } from '../support/test-gateway.ts';

const silent = pino({ level: 'silent' });
const binaries = redisServerBinary();
const pgUp = await postgresAvailable();

/** One private Redis Cluster (3 masters) for every suite of this file. */
let cluster: RedisCluster;
beforeAll(async () => {
  if (!binaries) throw new Error(`this suite starts a Redis Cluster: ${REDIS_SERVER_HINT}`);
  cluster = await startRedisCluster(3);
}, 30_000);
afterAll(async () => {
  await cluster?.stop();
});

/** Subscribers of a shard channel over the whole cluster (the one master of its slot answers non-zero). */
const shardSubscribers = async (channel: string): Promise<number> =>
  (await cluster.eachNode(async (n) => Number(((await n.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number])[1]))).reduce((a, b) => a + b, 0);

describe('RedisRateLimiter on a Redis Cluster', () => {
  const prefix = `flocktest:${randomBytes(4).toString('hex')}:`;
  let client: Cluster;

  beforeAll(async () => {
    const target = redisTarget(loadConfig({ REDIS_CLUSTER_NODES: cluster.nodes }));
    expect(target?.mode).toBe('cluster');
    client = openRedis(target!, 'commands', silent, () => {}) as Cluster;
    expect(client).toBeInstanceOf(Cluster);
    await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  });
  afterAll(async () => {
    await client?.quit();
  });

  rateLimiterContract(async () => new RedisRateLimiter(client, prefix, silent));

  it('spreads counters over the masters (keys live in different slots)', async () => {
    const limiter = new RedisRateLimiter(client, `${prefix}spread:`, silent);
    for (let i = 0; i < 30; i++) await limiter.hit(`k${i}`, { limit: 5, windowMs: 60_000 });
    const perNode = await cluster.eachNode(async (n) => (await n.keys(`${prefix}spread:*`)).length);
    expect(perNode.reduce((a, b) => a + b, 0)).toBe(30);
    expect(perNode.filter((k) => k > 0).length).toBeGreaterThanOrEqual(2);
  });
});

describe('two gateways joined through a Redis Cluster', () => {
  const prefix = `flocktest:${randomBytes(4).toString('hex')}:`;
  /** The adapter's shard channel of a room (socket.io-redis-adapter: `<prefix>#<nsp>#<room>#`). */
  const roomChannel = (room: string) => `${prefix}sio#/#${room}#`;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let a: TestGateway;
  let b: TestGateway;
  const open: TestSocket[] = [];
  const connectB = async (token: string) => {
    const s = await connectSocket(b.url, token);
    open.push(s);
    return s;
  };
  const post = async (token: string, text: string) => {
    const r = await a.api('POST', '/v1/tweets', { token, body: { text } });
    expect(r.status).toBe(201);
    return r.body;
  };
  const follow = async (token: string, handle: string, on = true) =>
    expect((await a.api(on ? 'PUT' : 'DELETE', `/v1/users/${handle}/follow`, { token })).status).toBeLessThan(300);
  /** B's own room membership, as B's adapter sees it. */
  const inRoomOnB = (room: string, socket: TestSocket) => b.gw.sockets.io.of('/').adapter.rooms.get(room)?.has(socket.id!) ?? false;

  beforeAll(async () => {
    assertService('postgres', pgUp);
    db = await createTestDatabase();
    const env = {
      DATABASE_URL: db.url,
      REDIS_CLUSTER_NODES: cluster.nodes,
      REDIS_KEY_PREFIX: prefix,
      LIVE_ROOM_THRESHOLD: 2,
      RATE_LOGIN_PER_ACCOUNT: '3/1h',
    };
    // node:http for both: socket.io's uWS integration patches the shared Adapter prototype for the
    // last app attached, so two gateways in one process cannot both (or either) use uWS.
    a = await startTestGateway('pglite', 'node', { ...env, NODE_ID: 1 });
    b = await startTestGateway('pglite', 'node', { ...env, NODE_ID: 2 });
    // Both nodes' adapters listen on the namespace channel, and both command clients answer.
    await until(async () => (await shardSubscribers(`${prefix}sio#/#`)) === 2, 'both gateways subscribed to the namespace channel');
    for (const t of [a, b]) await until(async () => (await t.api('GET', '/readyz')).body.checks?.redis === 'ok', 'redis ready');
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('is ready on both nodes, and each adapter counts both nodes (PUBSUB SHARDNUMSUB over every master)', async () => {
    for (const t of [a, b]) {
      const r = await t.api('GET', '/readyz');
      expect(r.status).toBe(200);
      expect(r.body.checks.redis).toBe('ok');
      expect(await t.gw.sockets.io.of('/').adapter.serverCount()).toBe(2);
    }
  });

  it("delivers a small author's tweet posted on node A to a follower's socket on node B (user rooms)", async () => {
    const author = await a.register('sa');
    const fan = await a.register('sf');
    await follow(fan.accessToken, author.handle);
    const fanTweets = collect(await connectB(fan.accessToken), 'tweet');
    await until(async () => (await shardSubscribers(roomChannel(`user:${fan.id}`))) === 1, "node B subscribed to the fan's user room");

    const tw = await post(author.accessToken, 'hello across nodes');
    expect((await fanTweets.next((x) => x.id === tw.id)).tweet).toEqual(tw);
  });

  it("delivers a large author's tweet through the author room, and a follow or unfollow on A takes effect on B's live socket", async () => {
    const star = await a.register('st');
    const fans = [await a.register('f1'), await a.register('f2')];
    for (const f of fans) await follow(f.accessToken, star.handle); // 2 followers = LIVE_ROOM_THRESHOLD: a large author
    const fanSocket = await connectB(fans[0]!.accessToken);
    const fanTweets = collect(fanSocket, 'tweet');
    await until(async () => (await shardSubscribers(roomChannel(`author:${star.id}`))) === 1, 'node B subscribed to the author room');

    const first = await post(star.accessToken, 'to my room');
    await fanTweets.next((x) => x.id === first.id);

    const late = await a.register('lt');
    const lateSocket = await connectB(late.accessToken);
    const lateTweets = collect(lateSocket, 'tweet');
    await follow(late.accessToken, star.handle); // through A; the socket is on B and does not reconnect
    await until(() => inRoomOnB(`author:${star.id}`, lateSocket), "B's socket joining the author room");
    const second = await post(star.accessToken, 'welcome');
    await lateTweets.next((x) => x.id === second.id);
    expect(lateTweets.items.map((x) => x.id)).not.toContain(first.id);

    await follow(late.accessToken, star.handle, false);
    await until(() => !inRoomOnB(`author:${star.id}`, lateSocket), "B's socket leaving the author room");
    const third = await post(star.accessToken, 'bye');
    await fanTweets.next((x) => x.id === third.id);
    expect(lateTweets.items.map((x) => x.id)).not.toContain(third.id);
    expect(lateSocket.connected).toBe(true);
  });

  it('logout through node A disconnects the session socket on node B with a terminal notice', async () => {
    const u = await a.register('lo');
    const s = await connectB(u.accessToken);
    const closed = serverClosed(s);
    expect((await a.api('POST', '/v1/auth/logout', { token: u.accessToken })).status).toBeLessThan(300);
    const { notice, reason } = await closed;
    expect(reason).toBe('io server disconnect');
    expect(notice).toEqual({ code: DISCONNECT_CODES.LOGGED_OUT, reason: 'logged out', reconnect: false });
  });

  it('counts rate limits in the cluster, shared by both nodes', async () => {
    const u = await a.register('rl');
    const login = (t: TestGateway) => t.api('POST', '/v1/auth/login', { body: { handle: u.handle, password: 'wrong password!' } });
    for (const t of [a, b, a]) expect((await login(t)).status).toBe(401);
    const refused = await login(b);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('FLOCK_ERR_RATE_LIMITED');
  });
});
