import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';
import { RedisProcess } from '../support/redis-process.ts';
import { assertService, createTestDatabase, postgresAvailable } from '../support/services.ts';
import { collect, connectSocket, type TestSocket } from '../support/socket-client.ts';
import { makeApi, type Api } from '../support/test-gateway.ts';
import { expiredAccessToken } from '../support/tokens.ts';

interface User {
  id: string;
  handle: string;
  accessToken: string;
  refreshToken: string;
}

/**
 * Three gateway processes, one real Redis (private, so it can be restarted) and
 * one real PostgreSQL database, as DESIGN §4 promises them to behave.
 */
describe('a cluster of three gateway processes', async () => {
  const available = await postgresAvailable();
  describe('with its services', () => {
    let db: Awaited<ReturnType<typeof createTestDatabase>>;
    let redis: RedisProcess;
    let nodes: GatewayProcess[];
    let api: Api[];
    const sockets: TestSocket[] = [];
    let n = 0;

    const register = async (via: Api, prefix: string): Promise<User> => {
      const handle = `${prefix}_${process.pid % 1000}_${n++}`;
      const r = await via('POST', '/v1/auth/register', { body: { handle, email: `${handle}@example.test`, password: 'long enough pw' } });
      expect(r.status).toBe(201);
      return { id: r.body.user.id, handle, accessToken: r.body.accessToken, refreshToken: r.body.refreshToken };
    };
    const connect = async (node: number, token: string) => {
      const s = await connectSocket(nodes[node]!.url, token);
      sockets.push(s);
      return s;
    };

    beforeAll(async () => {
      assertService('postgres', available);
      db = await createTestDatabase();
      redis = await RedisProcess.start();
      const env = { DATABASE_URL: db.url, REDIS_URL: redis.url, LIVE_ROOM_THRESHOLD: '3' };
      // The first node applies the migrations; the others start on a ready schema, as a rolling start would.
      nodes = [await startGatewayProcess({ ...env, NODE_ID: '1' })];
      nodes.push(...(await Promise.all([startGatewayProcess({ ...env, NODE_ID: '2' }), startGatewayProcess({ ...env, NODE_ID: '3' })])));
      api = nodes.map((g) => makeApi(g.url));
    });
    afterAll(async () => {
      for (const s of sockets) s.close();
      for (const g of nodes ?? []) g.child.kill('SIGKILL');
      await Promise.all((nodes ?? []).map((g) => g.exited()));
      await redis?.kill();
      await db?.drop();
    });

    it('a follower on node C receives tweets posted through node A, for small and large authors', async () => {
      const small = await register(api[0]!, 'sm');
      const star = await register(api[0]!, 'st');
      const reader = await register(api[1]!, 'rd');
      for (const u of [reader, await register(api[0]!, 'x1'), await register(api[0]!, 'x2')]) {
        await api[1]!('PUT', `/v1/users/${star.handle}/follow`, { token: u.accessToken });
      }
      await api[1]!('PUT', `/v1/users/${small.handle}/follow`, { token: reader.accessToken });
      const tweets = collect(await connect(2, reader.accessToken), 'tweet');
      const a = (await api[0]!('POST', '/v1/tweets', { token: small.accessToken, body: { text: 'from a small account' } })).body;
      const b = (await api[0]!('POST', '/v1/tweets', { token: star.accessToken, body: { text: 'from a large account' } })).body;
      expect((await tweets.next((e) => e.id === a.id)).tweet.text).toBe('from a small account');
      expect((await tweets.next((e) => e.id === b.id)).tweet.text).toBe('from a large account');
    });

    it('a follow made through node B takes effect on the socket on node C without a reconnect', async () => {
      const star = await register(api[0]!, 'st');
      for (let i = 0; i < 3; i++) {
        const f = await register(api[0]!, 'ff');
        await api[0]!('PUT', `/v1/users/${star.handle}/follow`, { token: f.accessToken });
      }
      const fan = await register(api[2]!, 'fn');
      const socket = await connect(2, fan.accessToken);
      const tweets = collect(socket, 'tweet');
      const before = (await api[0]!('POST', '/v1/tweets', { token: star.accessToken, body: { text: 'before the follow' } })).body;
      await api[1]!('PUT', `/v1/users/${star.handle}/follow`, { token: fan.accessToken });
      const after = (await api[0]!('POST', '/v1/tweets', { token: star.accessToken, body: { text: 'after the follow' } })).body;
      await tweets.next((e) => e.id === after.id);
      expect(tweets.items.map((e) => e.id)).not.toContain(before.id);
      expect(socket.connected).toBe(true);
      await api[1]!('DELETE', `/v1/users/${star.handle}/follow`, { token: fan.accessToken });
      const gone = (await api[0]!('POST', '/v1/tweets', { token: star.accessToken, body: { text: 'after the unfollow' } })).body;
      // The author's own socket on A receives it, which orders it after the fan's would-be delivery.
      const own = collect(await connect(0, star.accessToken), 'tweet');
      const last = (await api[0]!('POST', '/v1/tweets', { token: star.accessToken, body: { text: 'marker' } })).body;
      await own.next((e) => e.id === last.id);
      expect(tweets.items.map((e) => e.id)).not.toContain(gone.id);
    });

    it('an expired token is refused with FLOCK_ERR_TOKEN_EXPIRED, and after a refresh the socket connects', async () => {
      const u = await register(api[0]!, 'ex');
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      const expired = await expiredAccessToken(async (sql) => (await c.query<{ kid: string; private_jwk: string }>(sql)).rows, u).finally(() => c.end());
      const refused = await connectSocket(nodes[1]!.url, expired).catch((e: unknown) => e);
      expect((refused as { data: { code: string } }).data.code).toBe('FLOCK_ERR_TOKEN_EXPIRED');
      const fresh = await api[2]!('POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } });
      expect(fresh.status).toBe(200);
      const s = await connect(1, fresh.body.accessToken);
      expect(s.connected).toBe(true);
    });

    it('node C is killed (SIGKILL) mid-stream; the client reconnects to B and, after sync, has every tweet and notification exactly once', async () => {
      const writer = await register(api[0]!, 'wr');
      const reader = await register(api[0]!, 'rr');
      await api[0]!('PUT', `/v1/users/${writer.handle}/follow`, { token: reader.accessToken });
      const seenTweets = new Map<string, number>();
      const seenNotes = new Map<string, number>();
      const track = (s: TestSocket) => {
        s.on('tweet', (e) => seenTweets.set(e.id, (seenTweets.get(e.id) ?? 0) + 1));
        s.on('notification', (e) => seenNotes.set(e.id, (seenNotes.get(e.id) ?? 0) + 1));
      };
      const onC = await connect(2, reader.accessToken);
      track(onC);
      const live = collect(onC, 'tweet');
      const posted: string[] = [];
      const post = async (i: number) => {
        const r = await api[0]!('POST', '/v1/tweets', { token: writer.accessToken, body: { text: `tweet ${i} for @${reader.handle}` } });
        expect(r.status).toBe(201);
        posted.push(r.body.id);
      };
      for (let i = 0; i < 3; i++) await post(i);
      await live.next((e) => e.id === posted[2]);
      const lost = new Promise<void>((resolve) => onC.once('disconnect', () => resolve()));
      nodes[2]!.child.kill('SIGKILL');
      await lost;
      for (let i = 3; i < 10; i++) await post(i); // while the client is away

      // The client (as the SDK does) reconnects — the load balancer sends it to B — and syncs from what it last saw.
      const lastTweet = [...seenTweets.keys()].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1)).pop()!;
      const lastNote = [...seenNotes.keys()].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1)).pop()!;
      const onB = await connect(1, reader.accessToken);
      track(onB);
      const res = await onB.emitWithAck('sync', { notificationsAfter: lastNote, timelineSinceId: lastTweet });
      expect(res.ok).toBe(true);
      if (!res.ok) return;
      const syncedTweets = res.timeline.items.map((t) => t.id);
      const syncedNotes = res.notifications.items.map((x) => x.id);
      expect(new Set(syncedTweets).size).toBe(syncedTweets.length);
      expect(res.notifications.items.every((x) => x.kind === 'mention')).toBe(true);

      // What the application sees after dropping repeats by id: every tweet and notification, once.
      const allTweets = new Set([...seenTweets.keys(), ...syncedTweets]);
      expect([...allTweets].sort()).toEqual([...posted].sort());
      expect(posted.filter((id) => !seenTweets.has(id)).every((id) => syncedTweets.includes(id))).toBe(true);
      const allNotes = new Set([...seenNotes.keys(), ...syncedNotes]);
      expect(allNotes.size).toBe(10);
      // Live pushes themselves never came twice.
      expect([...seenTweets.values(), ...seenNotes.values()].every((count) => count === 1)).toBe(true);
    });

    it('Redis is restarted: the gateways stay up, HTTP keeps serving, and live push resumes by itself', async () => {
      const writer = await register(api[0]!, 'rw');
      const reader = await register(api[1]!, 'rx');
      await api[1]!('PUT', `/v1/users/${writer.handle}/follow`, { token: reader.accessToken });
      const tweets = collect(await connect(1, reader.accessToken), 'tweet');
      const first = (await api[0]!('POST', '/v1/tweets', { token: writer.accessToken, body: { text: 'redis is up' } })).body;
      await tweets.next((e) => e.id === first.id);

      await redis.kill();
      const during = await api[0]!('POST', '/v1/tweets', { token: writer.accessToken, body: { text: 'redis is down' } });
      expect(during.status).toBe(201);
      expect((await api[1]!('GET', '/v1/timeline/home', { token: reader.accessToken })).status).toBe(200);
      const ready = await api[0]!('GET', '/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body.checks.redis).toMatch(/^down/);
      expect((await api[0]!('GET', '/metrics')).text).toMatch(/flock_dependency_up\{dependency="redis"\} 0/);
      // The clients count their failed reconnects; the first one comes within ~100 ms.
      const errorsCounted = /flock_redis_errors_total\{client="(commands|publish|subscribe)"\} [1-9]/;
      const until = Date.now() + 5000;
      let metrics = '';
      while (!errorsCounted.test(metrics) && Date.now() < until) metrics = (await api[0]!('GET', '/metrics')).text;
      expect(metrics).toMatch(errorsCounted);

      await redis.start();
      // Resubscription takes a moment after the reconnect: post until one arrives, within a deadline.
      const deadline = Date.now() + 15_000;
      let received = false;
      while (!received && Date.now() < deadline) {
        const t = (await api[0]!('POST', '/v1/tweets', { token: writer.accessToken, body: { text: 'redis is back' } })).body;
        received = await tweets.next((e) => e.id === t.id, 500).then(
          () => true,
          () => false,
        );
      }
      expect(received).toBe(true);
      expect(nodes.slice(0, 2).every((g) => g.child.exitCode === null)).toBe(true);
    });
  });
});
