import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisTimelineCache } from '../../src/timeline/redis-timeline-cache.ts';
import { REDIS_URL, assertService, redisAvailable } from '../support/services.ts';
import { deleteKeys, runPrefix } from '../support/redis-keys.ts';
import { timelineCacheContract } from './timeline-cache.contract.ts';

const available = await redisAvailable();
const PREFIX = runPrefix();

describe('RedisTimelineCache', () => {
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

  timelineCacheContract(async (opts) => new RedisTimelineCache(redis, PREFIX, opts));

  it('keeps both keys of a user in one Cluster slot, under the prefix, with the TTL', async () => {
    const cache = new RedisTimelineCache(redis, PREFIX, { capacity: 10, ttlMs: 30_000 });
    await cache.fill('42', await cache.beginRebuild('42'), { ids: ['7'], floor: null, large: [], largeEpoch: '0' });
    const keys = (await redis.keys(`${PREFIX}tl:{42}*`)).sort();
    expect(keys).toEqual([`${PREFIX}tl:{42}`, `${PREFIX}tl:{42}:m`]);
    for (const k of keys) {
      const ttl = await redis.pttl(k);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(30_000);
    }
  });

  it('makes a timeline cold when Redis evicts either of its keys', async () => {
    const cache = new RedisTimelineCache(redis, PREFIX, { capacity: 10, ttlMs: 30_000 });
    for (const [u, suffix] of [['51', ''], ['52', ':m']] as const) {
      await cache.fill(u, await cache.beginRebuild(u), { ids: ['7'], floor: null, large: [], largeEpoch: '0' });
      await redis.del(`${PREFIX}tl:{${u}}${suffix}`);
      expect(await cache.read(u, {}, 10)).toBeNull();
    }
  });
});
