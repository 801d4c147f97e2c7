import type { Tweet } from '@flock/client/protocol';
import type { Database } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import type { TimelineQuery } from '../domain/tweets.ts';
import type { CachedTimeline, TimelineCache } from './timeline-cache.ts';
import { authorsTweetIds, homeIds, largeFollowees } from './timeline-queries.ts';
import type { TweetBodies } from './tweet-bodies.ts';

export interface TimelinePage {
  items: Tweet[];
  next: string | null;
}

/** A home-timeline read path. `SqlHomeTimeline` is the source of truth; `CachedHomeTimeline` must answer the same. */
export interface HomeTimelineReader {
  home(userId: string, q: TimelineQuery): Promise<TimelinePage>;
  /**
   * The same page as JSON text, byte for byte `JSON.stringify(await home(userId, q))`: what the
   * HTTP route sends. The cached path builds it from the cached JSON of the bodies without
   * parsing them (docs/timelines.md).
   */
  homeJson(userId: string, q: TimelineQuery): Promise<string>;
}

/** A page's JSON from its items' JSON texts; `JSON.stringify(page)` of the parsed items, byte for byte. */
export const pageJson = (items: readonly string[], next: string | null): string => `{"items":[${items.join(',')}],"next":${JSON.stringify(next)}}`;

/** Hydrates ids; `prefetched` are body-cache values already read with the timeline (null: not cached). */
type Hydrate<T> = (ids: readonly string[], prefetched?: ReadonlyMap<string, string | null>) => Promise<Map<string, T>>;

export type ReadPath = 'cache' | 'rebuild' | 'sql';

/** Cache ids read beyond the page, so a few deleted tweets do not cost a second round trip. */
const SLACK = 8;
/** Cache round trips per page before giving up and answering from SQL (pages full of deleted tweets). */
const MAX_ROUNDS = 4;

/** Newest first. Ids are decimal strings of positive 64-bit integers without leading zeros: longer is larger, else compare as text (no BigInt per comparison). */
const desc = (a: string, b: string): number => (a.length !== b.length ? b.length - a.length : a < b ? 1 : a > b ? -1 : 0);

/** The query's bounds as the cache takes them: inclusive upper (min of cursor − 1 and max_id), exclusive lower. */
export function queryBounds(q: TimelineQuery): { upTo?: string; after?: string } {
  let upTo: bigint | undefined;
  if (q.cursor !== undefined) upTo = BigInt(q.cursor) - 1n;
  if (q.maxId !== undefined && (upTo === undefined || BigInt(q.maxId) < upTo)) upTo = BigInt(q.maxId);
  return { ...(upTo === undefined ? {} : { upTo: (upTo < 0n ? -1n : upTo).toString() }), ...(q.sinceId === undefined ? {} : { after: q.sinceId }) };
}

/**
 * The hybrid read path (docs/timelines.md): ids from the user's cached timeline (fanned out on
 * write), merged with the live tweets of the large authors they follow (read from PostgreSQL),
 * hydrated from the body cache. A cold timeline is rebuilt from PostgreSQL first. Whenever the
 * cache cannot vouch for a page (it reaches below the floor, the cache is unreachable, a rebuild
 * lost a race) the page comes from SQL, so the answer is always the SQL one.
 */
export class CachedHomeTimeline implements HomeTimelineReader {
  constructor(
    private readonly d: {
      db: Database;
      cache: TimelineCache;
      bodies: TweetBodies;
      sql: HomeTimelineReader;
      log: Logger;
      capacity: number;
      onRead: (path: ReadPath) => void;
      onCacheError: () => void;
    },
  ) {}

  async home(userId: string, q: TimelineQuery): Promise<TimelinePage> {
    return (await this.cached(userId, q, (ids, pre) => this.d.bodies.hydrate(ids, pre))) ?? this.d.sql.home(userId, q);
  }

  async homeJson(userId: string, q: TimelineQuery): Promise<string> {
    const page = await this.cached(userId, q, (ids, pre) => this.d.bodies.hydrateJson(ids, pre));
    return page ? pageJson(page.items, page.next) : this.d.sql.homeJson(userId, q);
  }

  /** The page from the cache, its tweets hydrated by `hydrate`; null (counted as an SQL read) when SQL must answer. */
  private async cached<T>(userId: string, q: TimelineQuery, hydrate: Hydrate<T>): Promise<{ items: T[]; next: string | null } | null> {
    let page: { items: T[]; next: string | null } | null;
    try {
      page = await this.fromCache(userId, q, hydrate);
    } catch (err) {
      if (!isCacheError(err)) throw err;
      this.d.onCacheError();
      this.d.log.warn({ err: (err as Error).message }, 'timeline cache unavailable; answering from SQL');
      page = null;
    }
    if (!page) this.d.onRead('sql');
    return page;
  }

  private async fromCache<T>(userId: string, q: TimelineQuery, hydrate: Hydrate<T>): Promise<{ items: T[]; next: string | null } | null> {
    const want = q.limit + 1;
    const bounds = queryBounds(q);
    if (bounds.upTo === '-1') return { items: [], next: null };
    const ask = want + SLACK;
    // One round trip where the store can: the ids, the large epoch and the bodies of those ids.
    const { state: first, epoch, bodies: prefetched } = await cacheCall(() => this.d.cache.readPage(userId, bounds, ask, this.d.bodies.prefetchBodies() ? ask : 0));
    let state = first;
    let path: ReadPath = 'cache';
    if (!state) {
      if (!(await this.rebuild(userId, epoch))) return null;
      state = await cacheCall(() => this.d.cache.read(userId, bounds, ask));
      if (!state) return null;
      path = 'rebuild';
    }
    const large = await this.large(userId, state, epoch);
    const largeIds = await authorsTweetIds(this.d.db, large, bounds, want);

    // Scan the cache down until the merged top `want` cannot change any more.
    let cacheIds = [...state.ids];
    let exhausted = state.ids.length < ask;
    const pre = path === 'cache' ? (prefetched ?? undefined) : undefined;
    // The first `want` ids first: when all of them are live, the SLACK ids below them cannot reach
    // the page (the merge adds only large authors' ids), so they are not hydrated at all.
    const head = cacheIds.slice(0, want);
    let tweets = await hydrate([...head, ...largeIds], pre);
    if (cacheIds.length > want) {
      if (head.every((id) => tweets.has(id))) cacheIds = head;
      else tweets = new Map([...tweets, ...(await hydrate(cacheIds.slice(want), pre))]);
    }
    let merged = this.merge(cacheIds, largeIds, tweets);
    for (let round = 1; !exhausted; round++) {
      const last = cacheIds[cacheIds.length - 1]!;
      if (merged.length >= want && BigInt(merged[want - 1]!) >= BigInt(last)) break;
      if (round >= MAX_ROUNDS) return null;
      const more = await cacheCall(() => this.d.cache.read(userId, { ...bounds, upTo: (BigInt(last) - 1n).toString() }, ask));
      if (!more) return null;
      exhausted = more.ids.length < ask;
      cacheIds.push(...more.ids);
      tweets = new Map([...tweets, ...(await hydrate(more.ids))]);
      merged = this.merge(cacheIds, largeIds, tweets);
    }
    const top = merged.slice(0, want);
    if (state.floor !== null && !this.aboveFloor(top, want, state.floor, bounds.after)) return null;
    this.d.onRead(path);
    const kept = top.slice(0, q.limit);
    return { items: kept.map((id) => tweets.get(id)!), next: top.length > q.limit && kept.length > 0 ? kept[kept.length - 1]! : null };
  }

  /** Whether the page lies where the cache is complete: ids below the floor may be missing from it. */
  private aboveFloor(top: string[], want: number, floor: string, after: string | undefined): boolean {
    const f = BigInt(floor);
    if (top.length >= want) return BigInt(top[want - 1]!) >= f;
    // A short page is complete only if the range itself ends at or above the floor.
    return after !== undefined && BigInt(after) + 1n >= f;
  }

  private merge(cacheIds: string[], largeIds: string[], tweets: ReadonlyMap<string, unknown>): string[] {
    // The cache's ids are distinct and newest first already (each round reads below the last):
    // without large followees there is nothing to merge.
    if (largeIds.length === 0) return cacheIds.filter((id) => tweets.has(id));
    return [...new Set([...cacheIds, ...largeIds])].filter((id) => tweets.has(id)).sort(desc);
  }

  /** The followed authors merged at read time: from the cache when current, else recomputed and stored. */
  private async large(userId: string, state: CachedTimeline, epoch: string): Promise<string[]> {
    if (state.large !== null && state.largeEpoch === epoch) return state.large;
    const large = await largeFollowees(this.d.db, userId);
    await cacheCall(() => this.d.cache.storeLarge(userId, state.version, large, epoch));
    return large;
  }

  /** Rebuilds a cold timeline from PostgreSQL; false when a concurrent removal made the snapshot stale. */
  private async rebuild(userId: string, epoch: string): Promise<boolean> {
    const version = await cacheCall(() => this.d.cache.beginRebuild(userId));
    const [ids, large] = await Promise.all([homeIds(this.d.db, userId, this.d.capacity + 1), largeFollowees(this.d.db, userId)]);
    const full = ids.length > this.d.capacity;
    const kept = full ? ids.slice(0, this.d.capacity) : ids;
    return cacheCall(() =>
      this.d.cache.fill(userId, version, { ids: kept, floor: full ? kept[kept.length - 1]! : null, large, largeEpoch: epoch }),
    );
  }
}

/** Marks errors of the cache store (as opposed to PostgreSQL's), so only they fall back to SQL. */
class CacheError extends Error {}
const isCacheError = (err: unknown): boolean => err instanceof CacheError;

async function cacheCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new CacheError((err as Error).message, { cause: err });
  }
}
