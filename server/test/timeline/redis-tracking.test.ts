import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisTimelineCache } from '../../src/timeline/redis-timeline-cache.ts';
import type { TimelineCacheOptions } from '../../src/timeline/timeline-cache.ts';
import { trackedPages, type TrackedPages } from '../support/near-timelines.ts';
import { useTestRedis } from '../support/redis-keys.ts';
import { REDIS_URL } from '../support/services.ts';
import { timelineCacheContract } from './timeline-cache.contract.ts';

/**
 * Timeline pages kept in process over Redis (docs/timelines.md "Timeline reads in process"): node A
 * keeps its pages, node B (its own connection, no pages) writes, as two gateways do.
 */
describe('RedisTimelineCache with pages kept in process (CLIENT TRACKING)', () => {
  const { redis: client, prefix: PREFIX } = useTestRedis();
  const OPTS: TimelineCacheOptions = { capacity: 10, ttlMs: 60_000 };
  let a: TrackedPages;
  let other: Redis;
  let nodeA: RedisTimelineCache;
  let nodeB: RedisTimelineCache;
  let n = 0;
  const user = () => `${Date.now()}${n++}`;

  beforeAll(async () => {
    a = trackedPages(PREFIX);
    await a.ready();
    other = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    nodeA = new RedisTimelineCache(client(), PREFIX, OPTS, a.near);
    nodeB = new RedisTimelineCache(other, PREFIX, OPTS);
  });
  afterAll(async () => {
    await a?.close();
    await other?.quit();
  });

  const warm = async (cache: RedisTimelineCache, u: string, ids: string[]) => {
    expect(await cache.fill(u, await cache.beginRebuild(u), { ids, floor: null, large: [], largeEpoch: await cache.largeEpoch() })).toBe(true);
  };
  const ids = async (u: string, count = 10) => (await nodeA.readPage(u, {}, count, 0)).state?.ids ?? null;

  describe('on one node (its own writes)', () => {
    let own: TrackedPages;
    const caches: RedisTimelineCache[] = [];
    beforeAll(async () => {
      own = trackedPages(PREFIX);
      await own.ready();
    });
    afterAll(() => own?.close());
    timelineCacheContract(async (opts) => {
      const c = new RedisTimelineCache(client(), PREFIX, opts, own.near);
      caches.push(c);
      return c;
    });
  });

  it('answers a page from memory until another node changes the timeline, then the change', async () => {
    const u = user();
    await warm(nodeB, u, ['30', '20']);
    const before = { ...a.reads };
    expect(await ids(u)).toEqual(['30', '20']);
    expect(await ids(u)).toEqual(['30', '20']);
    expect(a.reads).toEqual({ hit: before.hit + 1, miss: before.miss + 1 });
    await nodeB.add([u], ['40']);
    await a.settle();
    expect(await ids(u)).toEqual(['40', '30', '20']);
    await nodeB.remove([u], ['30']);
    await a.settle();
    expect(await ids(u)).toEqual(['40', '20']);
    expect(a.reads.hit).toBe(before.hit + 1);
  });

  it('shows its own writes at once, without waiting for Redis to report them', async () => {
    const u = user();
    await warm(nodeA, u, ['5']);
    expect(await ids(u)).toEqual(['5']);
    await nodeA.add([u], ['6']);
    expect(await ids(u)).toEqual(['6', '5']);
    await nodeA.evict(u);
    expect(await ids(u)).toBeNull();
  });

  it('goes cold when another client deletes a key or it expires (eviction, TTL)', async () => {
    const u = user();
    const u2 = user();
    await warm(nodeB, u, ['1']);
    await warm(nodeB, u2, ['2']);
    expect(await ids(u)).toEqual(['1']);
    expect(await ids(u2)).toEqual(['2']);
    await other.del(`${PREFIX}tl:{${u}}`);
    await other.pexpire(`${PREFIX}tl:{${u2}}:m`, 1);
    // The expired key is deleted (and reported) once it is touched.
    while ((await other.exists(`${PREFIX}tl:{${u2}}:m`)) === 1);
    await a.settle();
    expect(await ids(u)).toBeNull();
    expect(await ids(u2)).toBeNull();
  });

  it('drops every page when the large epoch moves', async () => {
    const [u, v] = [user(), user()];
    await warm(nodeB, u, ['1']);
    await warm(nodeB, v, ['2']);
    const e0 = (await nodeA.readPage(u, {}, 5, 0)).epoch;
    await nodeA.readPage(v, {}, 5, 0);
    await nodeB.bumpLargeEpoch();
    await a.settle();
    expect((await nodeA.readPage(u, {}, 5, 0)).epoch).toBe(String(Number(e0) + 1));
    expect((await nodeA.readPage(v, {}, 5, 0)).epoch).toBe(String(Number(e0) + 1));
  });

  it('renews the TTL of the keys it reads once a minute (half of a shorter TTL) has passed, and only then (a renewal drops other nodes\u2019 pages)', async () => {
    const short = new RedisTimelineCache(client(), PREFIX, { capacity: 10, ttlMs: 30_000 }, a.near);
    const u = user();
    await warm(nodeB, u, ['1']);
    await other.pexpire(`${PREFIX}tl:{${u}}`, 5_000);
    await a.settle();
    await short.readPage(u, {}, 5, 0);
    expect(await other.pttl(`${PREFIX}tl:{${u}}`)).toBeGreaterThan(5_000);
    await other.pexpire(`${PREFIX}tl:{${u}}`, 20_000);
    await a.settle();
    await short.readPage(u, {}, 5, 0);
    expect(await other.pttl(`${PREFIX}tl:{${u}}`)).toBeLessThanOrEqual(20_000);
  });

  it('two nodes reading the same timeline keep their pages (reads do not drop each other\u2019s)', async () => {
    const b = trackedPages(PREFIX);
    try {
      await b.ready();
      const nodeB2 = new RedisTimelineCache(other, PREFIX, OPTS, b.near);
      const u = user();
      await warm(nodeB, u, ['1']);
      const before = { a: a.reads.miss, b: b.reads.miss };
      for (let i = 0; i < 5; i++) {
        await nodeA.readPage(u, {}, 5, 0);
        await nodeB2.readPage(u, {}, 5, 0);
        await Promise.all([a.settle(), b.settle()]);
      }
      expect({ a: a.reads.miss - before.a, b: b.reads.miss - before.b }).toEqual({ a: 1, b: 1 });
    } finally {
      await b.close();
    }
  });

  const kill = async (name: string, connection: Redis) => {
    const line = ((await other.client('LIST')) as string).split('\n').find((l) => l.includes(` name=${name} `));
    const dropped = new Promise<void>((resolve) => connection.once('close', () => resolve()));
    await other.client('KILL', 'ID', /^id=(\d+)/.exec(line!)![1]!);
    await dropped;
  };

  it('turns tracking on again when the reader connection comes back (Redis forgot it)', async () => {
    const u = user();
    await warm(nodeB, u, ['1']);
    await ids(u);
    await kill(a.readerName, a.near.reader as Redis);
    expect(a.pages.usable).toBe(false);
    await a.ready();
    expect(await ids(u)).toEqual(['1']);
    await nodeB.add([u], ['2']);
    await a.settle();
    expect(await ids(u)).toEqual(['2', '1']);
  });

  it('stops answering from memory when the invalidation connection drops, and starts again once tracking is back', async () => {
    const u = user();
    await warm(nodeB, u, ['1']);
    await ids(u);
    await kill(a.subscriberName, a.subscriber);
    expect(a.pages.usable).toBe(false);
    // Meanwhile B writes; nothing may be served from memory that predates it.
    await nodeB.add([u], ['2']);
    expect(await ids(u)).toEqual(['2', '1']);
    await a.ready();
    expect(await ids(u)).toEqual(['2', '1']);
    await nodeB.add([u], ['3']);
    await a.settle();
    expect(await ids(u)).toEqual(['3', '2', '1']);
  });
});
