import { describe, expect, it } from 'vitest';
import { RedisBodyCache } from '../../src/timeline/redis-body-cache.ts';
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

  it('reads a page with the large epoch and the cached bodies of its first ids in one call', async () => {
    const bodies = new RedisBodyCache(client(), PREFIX, { ttlMs: 30_000, guardMs: 30_000 });
    const cache = new RedisTimelineCache(client(), PREFIX, { capacity: 10, ttlMs: 30_000, bodyKeyPrefix: RedisBodyCache.keyOf(PREFIX, 'tw:') });
    // The epoch is global (other tests of this prefix bump it too).
    const epoch = await cache.largeEpoch();
    expect(await cache.readPage('61', {}, 5, 5)).toEqual({ state: null, epoch, bodies: null });
    await cache.fill('61', await cache.beginRebuild('61'), { ids: ['90', '80', '70', '60', '50'], floor: null, large: ['3'], largeEpoch: '0' });
    await cache.bumpLargeEpoch();
    // A body with newlines and quotes in its text (escaped in JSON), one invalidated, one never cached.
    const json90 = JSON.stringify({ id: '90', text: 'two\nlines "and" \\n' });
    await bodies.fill([['tw:90', json90], ['tw:80', '{"id":"80"}'], ['tw:60', '{"id":"60"}'], ['tw:50', '{"id":"50"}']]);
    await bodies.invalidate(['tw:80']);
    const page = await cache.readPage('61', { upTo: '85' }, 3, 2);
    expect(page.epoch).toBe(String(Number(epoch) + 1));
    expect(page.state).toEqual(await cache.read('61', { upTo: '85' }, 3));
    expect(page.state?.ids).toEqual(['80', '70', '60']);
    // Only the first two ids are prefetched; the guard and the missing body are null.
    expect(page.bodies).toEqual(new Map([['80', null], ['70', null]]));
    const all = await cache.readPage('61', {}, 10, 10);
    expect(all.bodies).toEqual(new Map([['90', json90], ['80', null], ['70', null], ['60', '{"id":"60"}'], ['50', '{"id":"50"}']]));
  });

  it('prefetches no bodies without their key prefix', async () => {
    const cache = new RedisTimelineCache(client(), PREFIX, { capacity: 10, ttlMs: 30_000 });
    await cache.fill('62', await cache.beginRebuild('62'), { ids: ['9'], floor: null, large: [], largeEpoch: '0' });
    expect(await cache.readPage('62', {}, 5, 5)).toEqual({ state: await cache.read('62', {}, 5), epoch: await cache.largeEpoch(), bodies: null });
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
