import { describe, expect, it } from 'vitest';
import { RedisTimelineCache } from '../../src/timeline/redis-timeline-cache.ts';
import { useTestRedis } from '../support/redis-keys.ts';
import { timelineCacheContract } from './timeline-cache.contract.ts';

describe('RedisTimelineCache', () => {
  const { redis: client, prefix: PREFIX } = useTestRedis();

  timelineCacheContract(async (opts) => new RedisTimelineCache(client(), PREFIX, opts));

  it('keeps both keys of a user in one Cluster slot, under the prefix, with the TTL', async () => {
    const cache = new RedisTimelineCache(client(), PREFIX, { capacity: 10, ttlMs: 30_000 });
    await cache.fill('42', await cache.beginRebuild('42'), { ids: ['7'], floor: null, large: [], largeEpoch: '0' });
    const keys = (await client().keys(`${PREFIX}tl:{42}*`)).sort();
    expect(keys).toEqual([`${PREFIX}tl:{42}`, `${PREFIX}tl:{42}:m`]);
    for (const k of keys) {
      const ttl = await client().pttl(k);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(30_000);
    }
  });

  it('makes a timeline cold when Redis evicts either of its keys', async () => {
    const cache = new RedisTimelineCache(client(), PREFIX, { capacity: 10, ttlMs: 30_000 });
    for (const [u, suffix] of [['51', ''], ['52', ':m']] as const) {
      await cache.fill(u, await cache.beginRebuild(u), { ids: ['7'], floor: null, large: [], largeEpoch: '0' });
      await client().del(`${PREFIX}tl:{${u}}${suffix}`);
      expect(await cache.read(u, {}, 10)).toBeNull();
    }
  });
});
