import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TimelineCache, TimelineCacheOptions } from '../../src/timeline/timeline-cache.ts';

/**
 * The contract every TimelineCache passes (server/src/timeline/timeline-cache.ts). `open` gets the
 * options; user ids are unique per test, so a store shared between tests needs no cleanup.
 */
export function timelineCacheContract(open: (opts: TimelineCacheOptions) => Promise<TimelineCache>): void {
  let cache: TimelineCache;
  let base: bigint;
  const CAP = 5;

  beforeEach(async () => {
    cache = await open({ capacity: CAP, ttlMs: 60_000 });
    // A fresh numeric range of user ids per test.
    base = BigInt(Number.parseInt(randomUUID().slice(0, 8), 16)) * 1_000_000n;
  });
  afterEach(async () => {
    await cache.close();
  });

  const user = (n: number): string => (base + BigInt(n)).toString();
  /** Realistic 19-digit ids: a large common part, so the cache cannot get away with float scores. */
  const id = (n: number): string => (7_300_000_000_000_000_000n + BigInt(n)).toString();
  const warm = async (u: string, ids: string[] = [], extra: Partial<{ floor: string | null; large: string[]; largeEpoch: string }> = {}) => {
    const v = await cache.beginRebuild(u);
    expect(await cache.fill(u, v, { ids, floor: null, large: [], largeEpoch: '0', ...extra })).toBe(true);
  };
  const all = async (u: string) => (await cache.read(u, {}, 100))?.ids ?? null;

  describe('timeline cache contract', () => {
    it('is cold until filled, and reads newest first after', async () => {
      const u = user(1);
      expect(await cache.read(u, {}, 10)).toBeNull();
      await warm(u, [id(3), id(2), id(1)]);
      expect(await cache.read(u, {}, 10)).toMatchObject({ ids: [id(3), id(2), id(1)], floor: null, large: [], largeEpoch: '0' });
    });

    it('keeps an empty warm timeline warm', async () => {
      const u = user(1);
      await warm(u);
      expect(await all(u)).toEqual([]);
    });

    it('orders ids that differ only in their last digits and share 17 leading ones', async () => {
      const u = user(1);
      await warm(u, [id(10), id(2), id(1)]);
      await cache.add([u], [id(9), id(11), id(3)]);
      expect(await all(u)).toEqual([id(11), id(10), id(9), id(3), id(2)]);
    });

    it('answers ranges exactly: upTo inclusive, after exclusive, count', async () => {
      const u = user(1);
      await warm(u, [5, 4, 3, 2, 1].map(id));
      expect((await cache.read(u, { upTo: id(4) }, 10))!.ids).toEqual([4, 3, 2, 1].map(id));
      expect((await cache.read(u, { after: id(2) }, 10))!.ids).toEqual([5, 4, 3].map(id));
      expect((await cache.read(u, { upTo: id(4), after: id(1) }, 2))!.ids).toEqual([4, 3].map(id));
      expect((await cache.read(u, { after: id(5) }, 10))!.ids).toEqual([]);
    });

    it('adds idempotently, only to warm timelines or those being rebuilt', async () => {
      const [a, b, c] = [user(1), user(2), user(3)];
      await warm(a, [id(1)]);
      const version = await cache.beginRebuild(c);
      await cache.add([a, b, c], [id(2)]);
      await cache.add([a, b, c], [id(2), id(2)]);
      expect(await all(a)).toEqual([id(2), id(1)]);
      expect(await all(b)).toBeNull();
      expect(await cache.read(b, {}, 10)).toBeNull();
      // The rebuild of c merges what was fanned out while it ran.
      expect(await cache.fill(c, version, { ids: [id(1)], floor: null, large: [], largeEpoch: '0' })).toBe(true);
      expect(await all(c)).toEqual([id(2), id(1)]);
    });

    it('adds to hundreds of timelines at once (a fan-out), warm ones only, whatever their position in the list', async () => {
      const users = Array.from({ length: 300 }, (_, i) => user(1000 + i));
      const warmOnes = [users[0]!, users[127]!, users[128]!, users[299]!];
      for (const u of warmOnes) await warm(u, [id(1)]);
      await cache.add(users, [id(5)]);
      for (const u of warmOnes) expect(await all(u)).toEqual([id(5), id(1)]);
      expect(await all(users[1]!)).toBeNull();
      expect(await all(users[200]!)).toBeNull();
    });

    it('keeps the newest `capacity` ids and raises the floor to the oldest kept', async () => {
      const u = user(1);
      await warm(u, [id(2), id(1)]);
      await cache.add([u], [3, 4, 5, 6, 7].map(id));
      const r = await cache.read(u, {}, 10);
      expect(r!.ids).toEqual([7, 6, 5, 4, 3].map(id));
      expect(r!.floor).toBe(id(3));
      // Ids below the floor are not taken back in: they would make a gap look complete.
      await cache.add([u], [id(1)]);
      expect(await all(u)).toEqual([7, 6, 5, 4, 3].map(id));
    });

    it('fills with a floor: drops what lies below it and reports it', async () => {
      const u = user(1);
      await warm(u, [id(9), id(8)], { floor: id(8) });
      expect(await cache.read(u, {}, 10)).toMatchObject({ ids: [id(9), id(8)], floor: id(8) });
    });

    it('removes ids and refuses a fill that started before the removal', async () => {
      const u = user(1);
      const version = await cache.beginRebuild(u);
      await cache.remove([u], [id(2)]);
      expect(await cache.fill(u, version, { ids: [id(2), id(1)], floor: null, large: [], largeEpoch: '0' })).toBe(false);
      expect(await cache.read(u, {}, 10)).toBeNull();
      await warm(u, [id(1)]);
      await cache.add([u], [id(2), id(3)]);
      await cache.remove([u], [id(2), id(99)]);
      expect(await all(u)).toEqual([id(3), id(1)]);
    });

    it('evicts: the timeline is cold, and a fill begun before the eviction is refused', async () => {
      const u = user(1);
      await warm(u, [id(1)]);
      const version = await cache.beginRebuild(u);
      await cache.evict(u);
      expect(await cache.read(u, {}, 10)).toBeNull();
      await cache.add([u], [id(2)]);
      expect(await cache.fill(u, version, { ids: [id(1)], floor: null, large: [], largeEpoch: '0' })).toBe(false);
      await warm(u, [id(1)]);
      expect(await all(u)).toEqual([id(1)]);
    });

    it('stores the large list with its epoch; forgetLarge drops it and refuses older stores', async () => {
      const u = user(1);
      await warm(u, [], { large: [user(7), user(8)], largeEpoch: '3' });
      const r = (await cache.read(u, {}, 1))!;
      expect(r).toMatchObject({ large: [user(7), user(8)], largeEpoch: '3' });
      await cache.forgetLarge(u);
      const after = (await cache.read(u, {}, 1))!;
      expect(after.large).toBeNull();
      expect(await cache.storeLarge(u, r.version, [user(9)], '4')).toBe(false);
      expect(await cache.storeLarge(u, after.version, [user(9)], '4')).toBe(true);
      expect(await cache.read(u, {}, 1)).toMatchObject({ large: [user(9)], largeEpoch: '4' });
      expect(await cache.storeLarge(user(2), after.version, [], '4')).toBe(false);
    });

    it('reports the oldest id of a timeline', async () => {
      const u = user(1);
      expect(await cache.oldest(u)).toBeNull();
      await warm(u, [id(5), id(3)]);
      expect(await cache.oldest(u)).toBe(id(3));
    });

    it('answers readPage (without bodies) as read and largeEpoch do, after every kind of write', async () => {
      const u = user(1);
      const same = async (step: string) => {
        for (const [range, count] of [[{}, 3], [{ upTo: id(6) }, 2], [{ after: id(2) }, 10]] as const) {
          // Twice: a store that keeps pages answers the second from memory.
          for (let i = 0; i < 2; i++) {
            const page = await cache.readPage(u, range, count, 0);
            expect(page.state, `${step} ${JSON.stringify(range)}`).toEqual(await cache.read(u, range, count));
            expect(page.epoch, step).toBe(await cache.largeEpoch());
          }
        }
      };
      await same('cold');
      await warm(u, [id(5), id(3)], { large: [user(9)], largeEpoch: await cache.largeEpoch() });
      await same('filled');
      await cache.add([u], [id(7), id(6)]);
      await same('added');
      await cache.remove([u], [id(5)]);
      await same('removed');
      const v = (await cache.read(u, {}, 1))!.version;
      await cache.forgetLarge(u);
      await same('large forgotten');
      await cache.storeLarge(u, (await cache.read(u, {}, 1))!.version, [user(8)], await cache.largeEpoch());
      expect(v).not.toBe((await cache.read(u, {}, 1))!.version);
      await same('large stored');
      await cache.bumpLargeEpoch();
      await same('epoch bumped');
      await cache.evict(u);
      await same('evicted');
      await cache.beginRebuild(u);
      await same('rebuilding');
    });

    it('counts a global large epoch up', async () => {
      const before = BigInt(await cache.largeEpoch());
      await cache.bumpLargeEpoch();
      expect(BigInt(await cache.largeEpoch())).toBe(before + 1n);
    });

    it('keeps users apart under concurrent adds', async () => {
      const users = [1, 2, 3, 4].map(user);
      for (const u of users) await warm(u);
      await Promise.all(users.flatMap((u, i) => [1, 2, 3].map((n) => cache.add([u], [id(i * 10 + n)]))));
      for (const [i, u] of users.entries()) expect(await all(u)).toEqual([3, 2, 1].map((n) => id(i * 10 + n)));
    });

    it('goes cold once the TTL passes without reads or writes', async () => {
      // The TTL is the behaviour under test, so this test waits for it.
      const short = await open({ capacity: CAP, ttlMs: 250 });
      try {
        const u = user(1);
        const v = await short.beginRebuild(u);
        await short.fill(u, v, { ids: [id(1)], floor: null, large: [], largeEpoch: '0' });
        expect((await short.read(u, {}, 10))!.ids).toEqual([id(1)]);
        await delay(400);
        expect(await short.read(u, {}, 10)).toBeNull();
      } finally {
        await short.close();
      }
    });
  });
}
