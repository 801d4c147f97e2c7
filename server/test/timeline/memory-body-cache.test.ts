import { describe, expect, it } from 'vitest';
import { MemoryBodyCache } from '../../src/timeline/memory-body-cache.ts';
import { bodyCacheContract } from './body-cache.contract.ts';

describe('MemoryBodyCache', () => {
  bodyCacheContract(async (opts) => new MemoryBodyCache({ ...opts, maxEntries: 10_000 }));

  it('keeps at most maxEntries, dropping the least recently used', async () => {
    const cache = new MemoryBodyCache({ ttlMs: 60_000, guardMs: 1000, maxEntries: 2 });
    await cache.fill([
      ['a', '1'],
      ['b', '2'],
    ]);
    await cache.getMany(['a']);
    await cache.fill([['c', '3']]);
    expect([...(await cache.getMany(['a', 'b', 'c'])).keys()].sort()).toEqual(['a', 'c']);
  });
});
