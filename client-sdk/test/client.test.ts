import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from '../../server/test/support/gateway-process.ts';
import { assertService, createTestDatabase, postgresAvailable } from '../../server/test/support/services.ts';
import { TcpProxy } from '../../server/test/support/tcp-proxy.ts';
import { expiredAccessToken } from '../../server/test/support/tokens.ts';
import { createFlockClient, FlockApiError, memoryTokenStorage, type FlockClient, type FlockClientOptions, type StoredTokens, type TokenStorage, type Tweet } from '../src/index.ts';

/**
 * The SDK against a real gateway process (PostgreSQL behind it), reached through a TCP proxy so
 * the test can cut the network and replace the process behind the same address.
 */
describe('@flock/client against a gateway process', async () => {
  const available = await postgresAvailable();
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let gateway: GatewayProcess;
  let proxy: TcpProxy;
  let baseUrl: string;
  const clients: FlockClient[] = [];
  let n = 0;

  // SYNC_MAX_ITEMS=2: a catch-up of three tweets needs the SDK to page the rest over HTTP.
  // Every start is kept, so afterAll kills a process even when a hook timed out while it started.
  const started: Promise<GatewayProcess>[] = [];
  const startGateway = () => {
    const p = startGatewayProcess({ DATABASE_URL: db.url, NODE_ID: String(++n), SYNC_MAX_ITEMS: '2' });
    started.push(p);
    return p;
  };

  /** A client with fast reconnects and every refresh counted. */
  const client = (opts: Partial<FlockClientOptions> = {}) => {
    const counts = { refresh: 0 };
    const c = createFlockClient({
      baseUrl,
      reconnect: { minDelayMs: 50, maxDelayMs: 300 },
      socket: { transports: ['websocket'] },
      fetch: (url, init) => {
        if (url.endsWith('/v1/auth/refresh')) counts.refresh++;
        return fetch(url, init);
      },
      ...opts,
    });
    clients.push(c);
    return Object.assign(c, { counts });
  };
  let u = 0;
  const newUser = async (c: FlockClient, prefix = 'u') => {
    const handle = `${prefix}${process.pid % 10000}_${u++}`;
    const auth = await c.auth.register({ handle, email: `${handle}@example.test`, password: 'long enough pw', name: prefix.toUpperCase() });
    return auth.user;
  };
  /** Resolves when the client's socket is connected and caught up. */
  const connected = (c: FlockClient) =>
    c.connected
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const off = c.on('connection', (s) => s.state === 'connected' && (off(), resolve()));
        });
  const collect = (c: FlockClient) => {
    const tweets: Tweet[] = [];
    const waiters: (() => void)[] = [];
    c.on('tweet', (e) => {
      tweets.push(e.tweet);
      for (const w of waiters.splice(0)) w();
    });
    return {
      tweets,
      until: (pred: () => boolean, ms = 10_000) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`timed out; got ${tweets.map((t) => t.text).join(', ')}`)), ms);
          const check = () => (pred() ? (clearTimeout(timer), resolve()) : waiters.push(check));
          check();
        }),
    };
  };
  const query = async <T extends pg.QueryResultRow>(sql: string) => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      return (await c.query<T>(sql)).rows;
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    assertService('postgres', available);
    db = await createTestDatabase();
    gateway = await startGateway();
    proxy = new TcpProxy('127.0.0.1', gateway.port);
    baseUrl = `http://127.0.0.1:${await proxy.start()}`;
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await proxy?.cut();
    for (const p of started) {
      const g = await p.catch(() => null);
      g?.child.kill('SIGKILL');
      await g?.exited();
    }
    await db?.drop();
  });

  it('registers and logs in, keeping the tokens in the given storage', async () => {
    const storage = memoryTokenStorage();
    const c = client({ storage, autoConnect: false });
    const sessions: unknown[] = [];
    c.on('session', (s) => sessions.push(s));
    const me = await newUser(c);
    expect(c.session).toEqual({ userId: me.id, handle: me.handle });
    expect((await storage.load())?.userId).toBe(me.id);
    expect((await c.me()).handle).toBe(me.handle);

    const other = client({ autoConnect: false });
    const auth = await other.auth.login({ handle: me.handle, password: 'long enough pw' });
    expect(auth.user.id).toBe(me.id);
    expect(other.session?.handle).toBe(me.handle);
    await expect(other.auth.login({ email: `${me.handle}@example.test`, password: 'wrong password' })).rejects.toMatchObject({
      status: 401,
      code: 'FLOCK_ERR_INVALID_CREDENTIALS',
    });
    expect(sessions).toEqual([{ userId: me.id, handle: me.handle }]);
  });

  it('covers every route family with typed results and FlockApiError codes', async () => {
    const a = client({ autoConnect: false });
    const b = client({ autoConnect: false });
    const alice = await newUser(a, 'al');
    const bob = await newUser(b, 'bo');

    // users
    expect((await a.users.updateMe({ bio: 'hello there' })).bio).toBe('hello there');
    expect((await b.users.get(alice.handle)).isFollowing).toBe(false);
    expect(await b.users.follow(alice.handle)).toEqual({ following: true });
    expect((await b.users.get(alice.handle)).isFollowing).toBe(true);
    expect((await a.users.followers(alice.handle)).items.map((x) => x.handle)).toEqual([bob.handle]);
    expect((await a.users.following(bob.handle)).items.map((x) => x.handle)).toEqual([alice.handle]);

    // tweets
    const t = await a.tweets.create({ text: `hi @${bob.handle}` });
    expect(t.author.handle).toBe(alice.handle);
    expect((await b.tweets.get(t.id)).text).toBe(t.text);
    expect((await a.tweets.edit(t.id, 'edited')).editedAt).not.toBeNull();
    expect((await a.users.tweets(alice.handle)).items.map((x) => x.id)).toEqual([t.id]);
    await expect(b.tweets.edit(t.id, 'not mine')).rejects.toMatchObject({ status: 403, code: 'FLOCK_ERR_FORBIDDEN' });
    await expect(a.tweets.create({ text: 'x'.repeat(281) })).rejects.toMatchObject({ status: 400, code: 'FLOCK_ERR_VALIDATION' });

    // comments and reactions
    const cm = await b.tweets.comment(t.id, 'nice');
    expect((await a.tweets.comments(t.id)).items.map((x) => x.text)).toEqual(['nice']);
    expect((await b.comments.edit(cm.id, 'very nice')).text).toBe('very nice');
    await b.comments.delete(cm.id);
    expect((await a.tweets.comments(t.id)).items).toEqual([]);
    expect((await b.tweets.react(t.id, 'like')).counts.like).toBe(1);
    expect((await a.tweets.reactions(t.id)).items.map((r) => r.user.handle)).toEqual([bob.handle]);
    expect((await b.tweets.unreact(t.id, 'like')).mine).toEqual([]);

    // timeline and notifications
    expect((await b.timeline.home()).items.map((x) => x.id)).toEqual([t.id]);
    const notes = await b.notifications.list();
    expect(notes.items.map((x) => x.kind)).toEqual(['mention']);
    expect(notes.unread).toBe(1);
    expect(await b.notifications.markRead(notes.items[0]!.id)).toEqual({ marked: 1 });

    await a.tweets.delete(t.id);
    await expect(b.tweets.get(t.id)).rejects.toBeInstanceOf(FlockApiError);
    expect(await b.users.unfollow(alice.handle)).toEqual({ following: false });
    await expect(a.users.get('nobody_here_x')).rejects.toMatchObject({ status: 404, code: 'FLOCK_ERR_NOT_FOUND' });

    // operations
    expect(await a.ops.health()).toEqual({ status: 'ok' });
    expect((await a.ops.ready()).status).toBe('ready');
    expect((await a.ops.jwks()).keys.length).toBeGreaterThan(0);
    expect(Object.keys((await a.ops.openapi()).paths as object)).toContain('/v1/tweets');

    // a call that needs a session, without one, fails before any request
    const anon = client({ autoConnect: false });
    await expect(anon.timeline.home()).rejects.toMatchObject({ status: 401, code: 'FLOCK_ERR_UNAUTHORIZED' });
    expect((await anon.users.get(alice.handle)).handle).toBe(alice.handle);
  });

  it('delivers a followed account’s tweet live, once', async () => {
    const a = client();
    const b = client({ autoConnect: false });
    await newUser(a, 'rd');
    const author = await newUser(b, 'wr');
    await a.users.follow(author.handle);
    const seen = collect(a);
    await connected(a);
    const t = await b.tweets.create({ text: 'live one' });
    await seen.until(() => seen.tweets.length === 1);
    expect(seen.tweets[0]!.id).toBe(t.id);
  });

  /** Storage that starts with an expired access token of a real session. */
  const expiredStorage = async (): Promise<{ storage: TokenStorage; saved: StoredTokens[] }> => {
    const setup = client({ autoConnect: false });
    const me = await newUser(setup, 'ex');
    const t = setup.session!;
    const stored = { accessToken: '', refreshToken: '', userId: t.userId, handle: t.handle };
    const mem = memoryTokenStorage();
    // Take the live pair from the setup client's own storage is not possible (memory, private): log in again.
    const auth = await client({ storage: mem, autoConnect: false }).auth.login({ handle: me.handle, password: 'long enough pw' });
    stored.refreshToken = auth.refreshToken;
    stored.accessToken = await expiredAccessToken(query, { id: me.id, accessToken: auth.accessToken });
    const saved: StoredTokens[] = [];
    let current: StoredTokens | null = stored;
    return {
      saved,
      storage: {
        load: () => current,
        save: (x) => void (saved.push(x), (current = x)),
        clear: () => void (current = null),
      },
    };
  };

  it('refreshes an expired access token once for many parallel calls, then retries each', async () => {
    const { storage, saved } = await expiredStorage();
    const c = client({ storage, autoConnect: false });
    await c.ready();
    const results = await Promise.all([c.me(), c.timeline.home(), c.notifications.list(), c.me(), c.users.get(c.session!.handle)]);
    expect(results[0].handle).toBe(c.session!.handle);
    expect(c.counts.refresh).toBe(1);
    expect(saved).toHaveLength(1);
    // The family was not revoked by a second, parallel refresh: the new pair works and refreshes again.
    await c.auth.refresh();
    expect(c.counts.refresh).toBe(2);
    expect((await c.me()).handle).toBe(c.session!.handle);
  });

  it('refreshes when the socket handshake answers FLOCK_ERR_TOKEN_EXPIRED, then connects', async () => {
    const { storage } = await expiredStorage();
    const c = client({ storage });
    const states: string[] = [];
    c.on('connection', (s) => states.push(s.state));
    await c.ready();
    await connected(c);
    expect(c.counts.refresh).toBe(1);
    expect(states).not.toContain('stopped');
    const seen = collect(c);
    const t = await c.tweets.create({ text: 'my own tweet reaches me' });
    await seen.until(() => seen.tweets.some((x) => x.id === t.id));
  });

  it('after the gateway is killed and replaced, reconnects, syncs, and delivers every missed tweet and notification once, in order', async () => {
    const reader = client();
    const writer = client({ autoConnect: false });
    const me = await newUser(reader, 'sy');
    const author = await newUser(writer, 'au');
    await reader.users.follow(author.handle);
    await reader.timeline.home(); // history the app loaded itself
    const seen = collect(reader);
    const notes: string[] = [];
    reader.on('notification', (e) => notes.push(e.notification.id));
    await connected(reader);
    const first = await writer.tweets.create({ text: 'before the crash' });
    await seen.until(() => seen.tweets.length === 1);

    // Kill the process; the client keeps retrying against a closed port.
    const disconnected = new Promise<void>((r) => {
      const off = reader.on('connection', (s) => s.state === 'disconnected' && (off(), r()));
    });
    await proxy.cut();
    gateway.child.kill('SIGKILL');
    await gateway.exited();
    await disconnected;
    gateway = await startGateway();
    // While the client cannot reach it, the author posts three tweets, one mentioning the reader.
    const direct = createFlockClient({ baseUrl: gateway.url, autoConnect: false });
    await direct.auth.login({ handle: author.handle, password: 'long enough pw' });
    const missed = [];
    for (const text of ['missed one', `missed two @${me.handle}`, 'missed three']) missed.push(await direct.tweets.create({ text }));

    const synced = new Promise<{ tweets: number; notifications: number }>((r) => {
      const off = reader.on('synced', (c) => (off(), r(c)));
    });
    proxy = new TcpProxy('127.0.0.1', gateway.port);
    await proxy.start(Number(new URL(baseUrl).port));
    expect(await synced).toEqual({ tweets: 3, notifications: 1 });
    expect(seen.tweets.map((t) => t.id)).toEqual([first.id, ...missed.map((t) => t.id)]);
    expect(notes).toHaveLength(1);

    // And live again afterwards.
    const after = await writer.tweets.create({ text: 'after the restart' });
    await seen.until(() => seen.tweets.length === 5);
    expect(seen.tweets[4]!.id).toBe(after.id);
  });

  it('on a drain notice (4000) reconnects, to the node that replaced the drained one, and syncs', async () => {
    const reader = client();
    const writer = client({ autoConnect: false });
    await newUser(reader, 'dr');
    const author = await newUser(writer, 'da');
    await reader.users.follow(author.handle);
    await reader.timeline.home();
    await connected(reader);
    const seen = collect(reader);
    const notice = new Promise<{ state: string; code?: number }>((r) => {
      const off = reader.on('connection', (s) => s.notice && (off(), r({ state: s.state, code: s.notice.code })));
    });
    const old = gateway;
    old.child.kill('SIGTERM');
    expect(await notice).toEqual({ state: 'disconnected', code: 4000 });
    expect(await old.exited()).toBe(0);
    await proxy.cut();
    gateway = await startGateway();
    const direct = createFlockClient({ baseUrl: gateway.url, autoConnect: false });
    await direct.auth.login({ handle: author.handle, password: 'long enough pw' });
    const missed = await direct.tweets.create({ text: 'posted during the drain' });
    const synced = new Promise<{ tweets: number }>((r) => {
      const off = reader.on('synced', (c) => (off(), r(c)));
    });
    proxy = new TcpProxy('127.0.0.1', gateway.port);
    await proxy.start(Number(new URL(baseUrl).port));
    expect((await synced).tweets).toBe(1);
    expect(seen.tweets.map((t) => t.id)).toEqual([missed.id]);
  });

  it('logout revokes the session, clears the tokens and stops the socket', async () => {
    const storage = memoryTokenStorage();
    const c = client({ storage });
    await newUser(c, 'lo');
    await connected(c);
    const refreshToken = (await storage.load())!.refreshToken;
    const stopped = new Promise<string | undefined>((r) => {
      const off = c.on('connection', (s) => s.state === 'stopped' && (off(), r(s.reason)));
    });
    const sessions: unknown[] = [];
    c.on('session', (s) => sessions.push(s));
    await c.auth.logout();
    expect(await stopped).toBe('logged out');
    expect(c.session).toBeNull();
    expect(c.connected).toBe(false);
    expect(await storage.load()).toBeNull();
    expect(sessions).toEqual([null]);
    await expect(c.me()).rejects.toMatchObject({ code: 'FLOCK_ERR_UNAUTHORIZED' });
    const r = await fetch(`${baseUrl}/v1/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken }) });
    expect(r.status).toBe(401);
  });

  it('stops for good when the server ends the session (account deleted elsewhere: code 4101)', async () => {
    const storage = memoryTokenStorage();
    const c = client({ storage });
    const me = await newUser(c, 'dl');
    await connected(c);
    const stopped = new Promise<number | undefined>((r) => {
      const off = c.on('connection', (s) => s.state === 'stopped' && (off(), r(s.notice?.code)));
    });
    const elsewhere = client({ autoConnect: false });
    await elsewhere.auth.login({ handle: me.handle, password: 'long enough pw' });
    await elsewhere.users.deleteMe();
    expect(await stopped).toBe(4101);
    await expect.poll(() => c.session).toBeNull();
    expect(await storage.load()).toBeNull();
  });
});
