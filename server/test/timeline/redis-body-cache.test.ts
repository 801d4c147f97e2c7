import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBodyCache } from '../../src/timeline/redis-body-cache.ts';
import { deleteKeys, runPrefix } from '../support/redis-keys.ts';
import { REDIS_URL, assertService, redisAvailable } from '../support/services.ts';
import { bodyCacheContract } from './body-cache.contract.ts';

const available = await redisAvailable();
const PREFIX = runPrefix();

describe('RedisBodyCache', () => {
  let redis: Redis;

  beforeAll(async () => {
    assertService('redis', available);
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    await redis.ping();
  });

  afterAll(async () => {
    if (!redis) return;
    await deleteKeys(redis, PREFIX);
    await redis.quit();
  });

  bodyCacheContract(async (opts) => new RedisBodyCache(redis, PREFIX, opts));

  it('stores values under the prefix with their TTL', async () => {
    const cache = new RedisBodyCache(redis, PREFIX, { ttlMs: 20_000, guardMs: 1000 });
    await cache.fill([['tw:1', 'v']]);
    const ttl = await redis.pttl(`${PREFIX}b:tw:1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(20_000);
  });
});
