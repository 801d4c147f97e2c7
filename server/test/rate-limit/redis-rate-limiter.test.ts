import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRateLimiter } from '../../src/rate-limit/redis-rate-limiter.ts';
import { REDIS_URL, assertService, redisAvailable } from '../support/services.ts';
import { rateLimiterContract } from './rate-limiter.contract.ts';

const available = await redisAvailable();
const silent = pino({ level: 'silent' });

/** Every key of this run starts with this prefix; afterAll deletes them. */
const PREFIX = `flocktest:${process.pid}:${randomBytes(4).toString('hex')}:`;

async function keysOfRun(redis: Redis): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/** A TCP port on which nothing listens: bound on port 0, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  return port;
}

describe('RedisRateLimiter', () => {
  let redis: Redis;

  beforeAll(async () => {
    assertService('redis', available);
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    await redis.ping();
  });

  afterAll(async () => {
    if (!redis) return;
    const keys = await keysOfRun(redis);
    if (keys.length > 0) await redis.del(...keys);
    expect(await keysOfRun(redis)).toEqual([]);
    await redis.quit();
  });

  rateLimiterContract(async () => new RedisRateLimiter(redis, PREFIX, silent));

  it('shares counters between nodes (limiters on separate connections)', async () => {
    const other = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      const nodeA = new RedisRateLimiter(redis, PREFIX, silent);
      const nodeB = new RedisRateLimiter(other, PREFIX, silent);
      const rule = { limit: 4, windowMs: 60_000 };
      const decisions = [
        await nodeA.hit('shared', rule),
        await nodeB.hit('shared', rule),
        await nodeA.hit('shared', rule),
        await nodeB.hit('shared', rule),
        await nodeA.hit('shared', rule),
        await nodeB.hit('shared', rule),
      ];
      expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([
        [true, 3],
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
        [false, 0],
      ]);
    } finally {
      await other.quit();
    }
  });

  it('keeps different prefixes (deployments sharing one Redis) apart', async () => {
    const a = new RedisRateLimiter(redis, `${PREFIX}a:`, silent);
    const b = new RedisRateLimiter(redis, `${PREFIX}b:`, silent);
    const rule = { limit: 1, windowMs: 60_000 };
    expect((await a.hit('same-key', rule)).allowed).toBe(true);
    expect((await b.hit('same-key', rule)).allowed).toBe(true);
    expect((await a.hit('same-key', rule)).allowed).toBe(false);
  });

  it('stores each counter under the prefix, expiring with its window', async () => {
    const limiter = new RedisRateLimiter(redis, PREFIX, silent);
    await limiter.hit('ttl-check', { limit: 3, windowMs: 5_000 });
    const keys = (await keysOfRun(redis)).filter((k) => k.includes('ttl-check'));
    expect(keys).toHaveLength(1);
    const ttl = await redis.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5_000);
  });

  it('fails open when Redis is unreachable: allows the hit, calls onError and logs a warning', async () => {
    const port = await closedPort();
    const down = new Redis({
      host: '127.0.0.1',
      port,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    down.on('error', () => {}); // connection errors are expected here
    const logged: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void logged.push(line) });
    let errors = 0;
    try {
      const limiter = new RedisRateLimiter(down, PREFIX, log, () => errors++);
      const rule = { limit: 1, windowMs: 60_000 };
      const first = await limiter.hit('down', rule);
      const second = await limiter.hit('down', rule);
      expect(first).toEqual({ allowed: true, remaining: 1, retryAfterMs: 0 });
      expect(second.allowed).toBe(true);
      expect(errors).toBe(2);
      expect(logged).toHaveLength(2);
      expect(JSON.parse(logged[0]!)).toMatchObject({ level: 40, rule: 'down', msg: expect.stringMatching(/unavailable/) });
    } finally {
      down.disconnect();
    }
  });
});
