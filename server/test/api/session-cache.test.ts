import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startGateway, type Gateway } from '../../src/gateway.ts';
import { useTestRedis } from '../support/redis-keys.ts';
import { REDIS_URL, assertService, createTestDatabase, postgresAvailable } from '../support/services.ts';
import { makeApi, startTestGateway, type Api } from '../support/test-gateway.ts';

/**
 * The in-process session and author caches (docs/timelines.md "Session cache") on two nodes that
 * share PostgreSQL and Redis. The TTLs are ten minutes, so anything that takes effect on the other
 * node within the test's second travelled over the cluster bus. The first test shows the caches
 * really answer (a change made behind the gateways' backs is not seen), so the others cannot pass
 * by asking PostgreSQL every time.
 */

const within = async (ms: number, check: () => Promise<boolean>): Promise<number> => {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - started;
};

interface User {
  id: string;
  handle: string;
  accessToken: string;
  refreshToken: string;
}

describe('session and author caches across nodes', async () => {
  const available = await postgresAvailable();
  const redis = useTestRedis();
  let db: { url: string; drop: () => Promise<void> };
  let sql: pg.Client;
  let a: Gateway;
  let b: Gateway;
  let apiA: Api;
  let apiB: Api;
  let n = 0;

  beforeAll(async () => {
    assertService('postgres', available);
    db = await createTestDatabase();
    const env = {
      PORT: 0,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      DATABASE_URL: db.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: redis.prefix,
      PASSWORD_SCRYPT_COST: 1024,
      MEDIA_SERVICE: 'off',
      SESSION_CACHE_TTL_MS: 600_000,
      AUTHOR_CACHE_TTL_MS: 600_000,
      TWEET_LOCAL_CACHE_TTL_MS: 600_000,
    };
    a = await startGateway(loadConfig({ ...env, NODE_ID: 1 }));
    b = await startGateway(loadConfig({ ...env, NODE_ID: 2 }));
    apiA = makeApi(a.url);
    apiB = makeApi(b.url);
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
  });
  afterAll(async () => {
    await sql?.end();
    await Promise.all([a?.stop(), b?.stop()]);
    await db?.drop();
  });

  const register = async (): Promise<User> => {
    const handle = `sc${process.pid.toString(36)}_${n++}`;
    const r = await apiA('POST', '/v1/auth/register', { body: { handle, email: `${handle}@example.test`, password: 'correct horse battery' } });
    expect(r.status).toBe(201);
    return { id: r.body.user.id, handle, accessToken: r.body.accessToken, refreshToken: r.body.refreshToken };
  };
  const me = async (api: Api, u: User) => (await api('GET', '/v1/users/me', { token: u.accessToken })).status;

  it('a node answers a session it checked from memory (a revocation written behind its back goes unseen until the TTL)', async () => {
    const u = await register();
    expect(await me(apiB, u)).toBe(200);
    await sql.query(`UPDATE sessions SET revoked_at = now(), revoked_reason = 'test' WHERE user_id = $1`, [u.id]);
    expect(await me(apiB, u)).toBe(200);
    // Node A never checked this session, so it asks PostgreSQL.
    expect(await me(apiA, u)).toBe(401);
  });

  it('logout on one node ends the session on the other at once', async () => {
    const u = await register();
    expect(await me(apiA, u)).toBe(200);
    expect(await me(apiB, u)).toBe(200);
    expect((await apiA('POST', '/v1/auth/logout', { token: u.accessToken })).status).toBe(204);
    expect(await me(apiA, u)).toBe(401);
    const ms = await within(1000, async () => (await me(apiB, u)) === 401);
    expect(ms).toBeLessThan(1000);
    // And it stays ended.
    expect(await me(apiB, u)).toBe(401);
  });

  it('a reused refresh token revokes the session on every node', async () => {
    const u = await register();
    expect(await me(apiB, u)).toBe(200);
    const first = await apiA('POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } });
    expect(first.status).toBe(200);
    const next = { ...u, accessToken: first.body.accessToken as string };
    expect(await me(apiB, next)).toBe(200);
    // Using the spent token again looks like theft: the whole session ends.
    expect((await apiA('POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } })).status).toBe(401);
    await within(1000, async () => (await me(apiB, next)) === 401);
    expect(await me(apiB, u)).toBe(401);
  });

  it('deleting an account ends its sessions on every node and its tweets leave other nodes’ timelines', async () => {
    const author = await register();
    const reader = await register();
    expect((await apiA('PUT', `/v1/users/${author.handle}/follow`, { token: reader.accessToken })).status).toBe(200);
    expect((await apiA('POST', '/v1/tweets', { token: author.accessToken, body: { text: 'soon gone' } })).status).toBe(201);
    const home = async () => (await apiB('GET', '/v1/timeline/home', { token: reader.accessToken })).body.items as { author: { id: string } }[];
    expect((await home()).map((t) => t.author.id)).toEqual([author.id]);
    expect(await me(apiB, author)).toBe(200);
    expect((await apiA('DELETE', '/v1/users/me', { token: author.accessToken })).status).toBe(204);
    await within(1000, async () => (await me(apiB, author)) === 401);
    await within(1000, async () => (await home()).length === 0);
  });

  it('a profile change on one node shows in timelines read on the other at once', async () => {
    const author = await register();
    const reader = await register();
    expect((await apiA('PUT', `/v1/users/${author.handle}/follow`, { token: reader.accessToken })).status).toBe(200);
    expect((await apiA('POST', '/v1/tweets', { token: author.accessToken, body: { text: 'who am I' } })).status).toBe(201);
    const names = async () =>
      ((await apiB('GET', '/v1/timeline/home', { token: reader.accessToken })).body.items as { author: { name: string } }[]).map((t) => t.author.name);
    expect(await names()).toEqual([author.handle]);
    // The summary is now in node B's memory: a change behind the gateways' backs is not seen …
    await sql.query('UPDATE users SET name = $2 WHERE id = $1', [author.id, 'Behind Their Backs']);
    expect(await names()).toEqual([author.handle]);
    // … but a change through the API, on the other node, is.
    expect((await apiA('PATCH', '/v1/users/me', { token: author.accessToken, body: { name: 'New Name' } })).status).toBe(200);
    await within(1000, async () => (await names())[0] === 'New Name');
  });

  it('edits, likes and deletions on one node show in timelines read on the other at once (tweet bodies in process)', async () => {
    const author = await register();
    const reader = await register();
    const liker = await register();
    expect((await apiA('PUT', `/v1/users/${author.handle}/follow`, { token: reader.accessToken })).status).toBe(200);
    const posted = await apiA('POST', '/v1/tweets', { token: author.accessToken, body: { text: 'first draft' } });
    expect(posted.status).toBe(201);
    const id = posted.body.id as string;
    type Item = { id: string; text: string; counts: { likes: number } };
    const items = async () => (await apiB('GET', '/v1/timeline/home', { token: reader.accessToken })).body.items as Item[];
    expect((await items()).map((t) => t.text)).toEqual(['first draft']);
    // The body is now in node B's memory: a change behind the gateways' backs (PostgreSQL and
    // the shared body cache) is not seen …
    await sql.query('UPDATE tweets SET text = $2 WHERE id = $1', [id, 'behind their backs']);
    const key = `${redis.prefix}b:tw:${id}`;
    await within(1000, async () => (await redis.redis().get(key)) !== null); // filled after B's read, without waiting
    await redis.redis().set(key, (await redis.redis().get(key))!.replace('first draft', 'behind their backs'));
    expect((await items()).map((t) => t.text)).toEqual(['first draft']);
    // … but changes through the API, on the other node, are.
    expect((await apiA('PATCH', `/v1/tweets/${id}`, { token: author.accessToken, body: { text: 'second draft' } })).status).toBe(200);
    await within(1000, async () => (await items())[0]?.text === 'second draft');
    expect((await apiA('PUT', `/v1/tweets/${id}/reactions/like`, { token: liker.accessToken })).status).toBe(200);
    await within(1000, async () => (await items())[0]?.counts.likes === 1);
    expect((await apiA('DELETE', `/v1/tweets/${id}`, { token: author.accessToken })).status).toBe(204);
    await within(1000, async () => (await items()).length === 0);
  });

  it('a tweet fanned out by one node shows in a timeline page the other keeps in memory at once (Redis reports the change)', async () => {
    const author = await register();
    const reader = await register();
    expect((await apiA('PUT', `/v1/users/${author.handle}/follow`, { token: reader.accessToken })).status).toBe(200);
    const texts = async () => ((await apiB('GET', '/v1/timeline/home', { token: reader.accessToken })).body.items as { text: string }[]).map((t) => t.text);
    const hits = async () => Number(/^flock_timeline_local_reads_total\{result="hit"\} (\d+)$/m.exec(await (await fetch(`${b.url}/metrics`)).text())?.[1] ?? 0);
    // The first read rebuilds the cold timeline, the second keeps its page, the third is answered from memory.
    expect(await texts()).toEqual([]);
    expect(await texts()).toEqual([]);
    const before = await hits();
    expect(await texts()).toEqual([]);
    expect(await hits()).toBe(before + 1);
    // Node A fans the tweet out (in the request) into the timeline whose page B keeps.
    expect((await apiA('POST', '/v1/tweets', { token: author.accessToken, body: { text: 'hello B' } })).status).toBe(201);
    await within(1000, async () => (await texts())[0] === 'hello B');
  });
});

describe('session cache without Redis', async () => {
  const available = await postgresAvailable();
  it('is off when nodes share PostgreSQL with no bus between them: a revocation shows at once everywhere', async () => {
    assertService('postgres', available);
    const db = await createTestDatabase();
    const env = { PORT: 0, HOST: '127.0.0.1', LOG_LEVEL: 'silent', DATABASE_URL: db.url, PASSWORD_SCRYPT_COST: 1024, MEDIA_SERVICE: 'off' };
    const a = await startGateway(loadConfig({ ...env, NODE_ID: 1 }));
    const b = await startGateway(loadConfig({ ...env, NODE_ID: 2 }));
    const sql = new pg.Client({ connectionString: db.url });
    try {
      await sql.connect();
      const r = await makeApi(a.url)('POST', '/v1/auth/register', { body: { handle: 'solo_pg', email: 'solo@example.test', password: 'correct horse battery' } });
      expect(r.status).toBe(201);
      const token = r.body.accessToken as string;
      expect((await makeApi(b.url)('GET', '/v1/users/me', { token })).status).toBe(200);
      await sql.query(`UPDATE sessions SET revoked_at = now() WHERE user_id = $1`, [r.body.user.id]);
      expect((await makeApi(b.url)('GET', '/v1/users/me', { token })).status).toBe(401);
      expect((await makeApi(a.url)('GET', '/v1/users/me', { token })).status).toBe(401);
    } finally {
      await sql.end();
      await Promise.all([a.stop(), b.stop()]);
      await db.drop();
    }
  });
});

describe('verified access tokens', () => {
  it('a token whose signature was checked once still expires on time, and logout still ends it (embedded database: the caches are on)', async () => {
    const t = await startTestGateway('pglite', 'node', { ACCESS_TOKEN_TTL_SECONDS: 60, SESSION_CACHE_TTL_MS: 600_000 });
    try {
      const u = await t.register('vt');
      expect((await t.api('GET', '/v1/users/me', { token: u.accessToken })).status).toBe(200);
      expect((await t.api('GET', '/v1/users/me', { token: u.accessToken })).status).toBe(200);
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 61_000 });
      const late = await t.api('GET', '/v1/users/me', { token: u.accessToken });
      expect({ status: late.status, code: late.body.error?.code }).toEqual({ status: 401, code: 'FLOCK_ERR_TOKEN_EXPIRED' });
      vi.useRealTimers();

      const v = await t.register('vt');
      expect((await t.api('GET', '/v1/users/me', { token: v.accessToken })).status).toBe(200);
      expect((await t.api('POST', '/v1/auth/logout', { token: v.accessToken })).status).toBe(204);
      expect((await t.api('GET', '/v1/users/me', { token: v.accessToken })).status).toBe(401);
    } finally {
      vi.useRealTimers();
      await t.close();
    }
  });
});
