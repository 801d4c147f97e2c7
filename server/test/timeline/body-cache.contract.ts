import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BodyCache, BodyCacheOptions } from '../../src/timeline/body-cache.ts';

/** The contract every BodyCache passes (server/src/timeline/body-cache.ts); keys are unique per test. */
export function bodyCacheContract(open: (opts: BodyCacheOptions) => Promise<BodyCache>): void {
  let cache: BodyCache;
  let base: string;
  const key = (n: string) => `${base}:${n}`;

  beforeEach(async () => {
    cache = await open({ ttlMs: 60_000, guardMs: 60_000 });
    base = randomUUID();
  });
  afterEach(async () => {
    await cache.close();
  });

  describe('body cache contract', () => {
    it('returns only the keys that hold a value', async () => {
      await cache.fill([
        [key('a'), '{"x":1}'],
        [key('b'), 'é ✓ 𝄞'],
      ]);
      const got = await cache.getMany([key('a'), key('b'), key('c')]);
      expect([...got.entries()].sort()).toEqual([
        [key('a'), '{"x":1}'],
        [key('b'), 'é ✓ 𝄞'],
      ]);
      expect((await cache.getMany([])).size).toBe(0);
    });

    it('never fills over a value', async () => {
      await cache.fill([[key('a'), 'first']]);
      await cache.fill([[key('a'), 'second']]);
      expect((await cache.getMany([key('a')])).get(key('a'))).toBe('first');
    });

    it('drops invalidated values and refuses fills while the guard lasts', async () => {
      await cache.fill([[key('a'), 'old']]);
      await cache.invalidate([key('a'), key('never-filled')]);
      expect((await cache.getMany([key('a'), key('never-filled')])).size).toBe(0);
      await cache.fill([
        [key('a'), 'stale'],
        [key('never-filled'), 'stale'],
      ]);
      expect((await cache.getMany([key('a'), key('never-filled')])).size).toBe(0);
    });

    it('accepts fills again once the guard has passed, and drops values after their TTL', async () => {
      // Both durations are the behaviour under test, so this test waits for them.
      const short = await open({ ttlMs: 300, guardMs: 150 });
      try {
        await short.invalidate([key('g')]);
        await delay(250);
        await short.fill([[key('g'), 'new']]);
        expect((await short.getMany([key('g')])).get(key('g'))).toBe('new');
        await delay(400);
        expect((await short.getMany([key('g')])).size).toBe(0);
      } finally {
        await short.close();
      }
    });
  });
}
