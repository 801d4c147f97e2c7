import { describe, expect, it } from 'vitest';
import { MemoryTimelineCache } from '../../src/timeline/memory-timeline-cache.ts';
import { timelineCacheContract } from './timeline-cache.contract.ts';

describe('MemoryTimelineCache', () => {
  timelineCacheContract(async (opts) => new MemoryTimelineCache({ ...opts, maxUsers: 10_000 }));

  it('evicts the least recently used timeline beyond maxUsers', async () => {
    const cache = new MemoryTimelineCache({ capacity: 10, ttlMs: 60_000, maxUsers: 2 });
    for (const u of ['1', '2']) await cache.fill(u, await cache.beginRebuild(u), { ids: ['5'], floor: null, large: [], largeEpoch: '0' });
    await cache.read('1', {}, 1); // 2 is now the least recently used
    await cache.fill('3', await cache.beginRebuild('3'), { ids: ['5'], floor: null, large: [], largeEpoch: '0' });
    expect(await cache.read('2', {}, 1)).toBeNull();
    expect((await cache.read('1', {}, 1))!.ids).toEqual(['5']);
    expect((await cache.read('3', {}, 1))!.ids).toEqual(['5']);
  });
});
