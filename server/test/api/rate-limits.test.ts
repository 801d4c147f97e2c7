import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertService, redisAvailable, REDIS_URL } from '../support/services.ts';
import { makeApi, startTestGateway, type TestGateway } from '../support/test-gateway.ts';

const LIMITS = {
  RATE_LOGIN_PER_ACCOUNT: '3/1h',
  RATE_LOGIN_PER_IP: '5/1h',
  RATE_TWEETS_PER_USER: '2/1h',
  RATE_REGISTER_PER_IP: '5/1h',
  TRUST_PROXY: 'true',
};

function expect429(r: { status: number; headers: Headers; body: any }, maxSeconds: number): void {
  expect(r.status).toBe(429);
  expect(r.body.error.code).toBe('FLOCK_ERR_RATE_LIMITED');
  const retry = Number(r.headers.get('retry-after'));
  expect(retry).toBeGreaterThanOrEqual(1);
  expect(retry).toBeLessThanOrEqual(maxSeconds);
}

function rateLimitSuite(store: 'memory' | 'redis', extraEnv: () => Record<string, string>): void {
  let nodes: TestGateway[];
  const ip = (n: number) => ({ 'x-forwarded-for': `198.51.100.${n}` });

  beforeAll(async () => {
    // Two nodes: with Redis they share counters; in memory each counts alone.
    nodes = [await startTestGateway('pglite', 'uws', { ...LIMITS, ...extraEnv() })];
  });
  afterAll(async () => {
    for (const n of nodes ?? []) await n.close();
  });

  it('limits login attempts per account, then per address, with Retry-After', async () => {
    const { api } = nodes[0]!;
    const reg = (h: string) => api('POST', '/v1/auth/register', { headers: ip(1), body: { handle: h, email: `${h}@example.test`, password: 'long enough pw' } });
    for (const h of ['rl_a', 'rl_b', 'rl_c']) expect((await reg(h)).status).toBe(201);
    const login = (handle: string, password: string, from = 2) => api('POST', '/v1/auth/login', { headers: ip(from), body: { handle, password } });
    for (let i = 0; i < 3; i++) expect((await login('rl_a', 'wrong password')).status).toBe(401);
    expect429(await login('rl_a', 'long enough pw'), 3600); // even the right password now
    expect429(await login('RL_A', 'long enough pw', 3), 3600); // the account is limited whatever the address or case
    expect((await login('rl_b', 'long enough pw')).status).toBe(200); // address count 5 of 5
    expect429(await login('rl_c', 'long enough pw'), 3600); // address limit reached
    expect((await login('rl_c', 'long enough pw', 4)).status).toBe(200); // another address is fine
  });

  it('limits registrations per address', async () => {
    const { api } = nodes[0]!;
    const reg = (h: string) => api('POST', '/v1/auth/register', { headers: ip(9), body: { handle: h, email: `${h}@example.test`, password: 'long enough pw' } });
    for (let i = 0; i < 5; i++) expect((await reg(`rr_${i}`)).status).toBe(201);
    expect429(await reg('rr_5'), 3600);
    expect((await api('GET', '/v1/users/rr_5')).status).toBe(404);
  });

  it('limits tweets per user and stores nothing refused', async () => {
    const { api } = nodes[0]!;
    const u = await nodes[0]!.register('tw');
    const other = await nodes[0]!.register('tw');
    for (let i = 0; i < 2; i++) expect((await api('POST', '/v1/tweets', { token: u.accessToken, body: { text: `t${i}` } })).status).toBe(201);
    expect429(await api('POST', '/v1/tweets', { token: u.accessToken, body: { text: 'one too many' } }), 3600);
    expect((await api('GET', `/v1/users/${u.handle}/tweets`)).body.items).toHaveLength(2);
    expect((await api('POST', '/v1/tweets', { token: other.accessToken, body: { text: 'mine' } })).status).toBe(201);
  });

  if (store === 'redis') {
    it('shares counters between nodes through Redis', async () => {
      const second = await startTestGateway('pglite', 'node', { ...LIMITS, ...extraEnv() });
      nodes.push(second);
      const a = makeApi(nodes[0]!.url);
      const b = makeApi(second.url);
      // Distinct PGlite databases, one Redis: the account key is the handle, so both nodes count 'shared_x'.
      const login = (api: typeof a) => api('POST', '/v1/auth/login', { headers: ip(20), body: { handle: 'shared_x', password: 'whatever1' } });
      for (const api of [a, b, a]) expect((await login(api)).status).toBe(401);
      expect429(await login(b), 3600);
    });
  }
}

describe('rate limits in memory', () => {
  rateLimitSuite('memory', () => ({}));
});

describe('rate limits in Redis', async () => {
  const available = await redisAvailable();
  describe('with its services', () => {
    const prefix = `flocktest:${process.pid}:${Date.now().toString(36)}:`;
    beforeAll(() => assertService('redis', available));
    rateLimitSuite('redis', () => ({ REDIS_URL, REDIS_KEY_PREFIX: prefix }));
  });
});
