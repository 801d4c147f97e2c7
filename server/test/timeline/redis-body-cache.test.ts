import { describe, expect, it } from 'vitest';
import { RedisBodyCache } from '../../src/timeline/redis-body-cache.ts';
import { useTestRedis } from '../support/redis-keys.ts';
import { bodyCacheContract } from './body-cache.contract.ts';

describe('RedisBodyCache', () => {
  const { redis, prefix } = useTestRedis();

  bodyCacheContract(async (opts) => new RedisBodyCache(redis(), prefix, opts));

  it('stores values under the prefix with their TTL', async () => {
    const cache = new RedisBodyCache(redis(), prefix, { ttlMs: 20_000, guardMs: 1000 });
    await cache.fill([['tw:1', 'v']]);
    const ttl = await redis().pttl(`${prefix}b:tw:1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(20_000);
  });
});
