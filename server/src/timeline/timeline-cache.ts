/**
 * The home-timeline cache: per user, the ids of the newest `capacity` (TIMELINE_CACHE_SIZE, 800)
 * tweets of their home timeline, newest first, plus what the read path needs to trust them.
 *
 * Guarantees every implementation keeps (server/test/timeline/timeline-cache.contract.ts):
 * - A user's timeline is either warm (filled by `fill`, readable) or cold (`read` answers null).
 *   It goes cold by `evict`, by its TTL (`ttlMs` since the last `read` or write; a `readPage`
 *   answered from a node's memory may renew it only once a minute), or when the
 *   store drops it (memory: least recently used beyond `maxUsers`; Redis: maxmemory eviction);
 *   a cold timeline is rebuilt from PostgreSQL by the caller.
 * - `add` is idempotent (a set of ids) and keeps the newest `capacity` ids; whenever ids fall off
 *   the bottom, `floor` rises to the oldest id kept: ids below `floor` may be missing, ids at or
 *   above it are all there (minus the ones removed on purpose).
 * - `add` writes only timelines that are warm or being rebuilt (after `beginRebuild`), so ids
 *   fanned out during a rebuild are merged with the rebuilt ones, never lost.
 * - Every `remove`, `evict` and `forgetLarge` changes the user's version, and `fill` only applies
 *   if the version is still the one `beginRebuild` returned: a rebuild that read PostgreSQL
 *   before an unfollow or a delete cannot write the removed ids back.
 * - `large` is the list of followed authors merged at read time, stored with the value of the
 *   global `largeEpoch` it was computed at; `bumpLargeEpoch` makes every such list stale.
 * Ids are decimal strings of up to 19 digits; order is numeric.
 */
export interface TimelineRange {
  /** Inclusive upper bound (newest id wanted). */
  upTo?: string;
  /** Exclusive lower bound (only ids newer than this). */
  after?: string;
}

export interface CachedTimeline {
  /** Ids in the range, newest first, at most the count asked for. */
  ids: string[];
  /** Ids below this may be missing from the cache; null when nothing ever fell off. */
  floor: string | null;
  /** Followed authors merged at read time; null when unknown (recompute and `storeLarge`). */
  large: string[] | null;
  /** The `largeEpoch` the `large` list was computed at. */
  largeEpoch: string | null;
  /** The user's version now (for `storeLarge`). */
  version: string;
}

export interface TimelinePageRead {
  state: CachedTimeline | null;
  epoch: string;
  bodies: Map<string, string | null> | null;
}

export interface TimelineCache {
  /** Up to `count` ids in the range, newest first; null when the timeline is cold. Refreshes the TTL. */
  read(userId: string, range: TimelineRange, count: number): Promise<CachedTimeline | null>;
  /**
   * `read` and `largeEpoch` together, plus, where round trips cost, the body-cache values (cached
   * tweet JSON) of the first `prefetch` ids read, in one round trip. `bodies` maps each prefetched
   * id to its value, or to null when the body cache has none (a miss or an invalidation guard);
   * null when the store does not prefetch (memory, Redis Cluster: `readSeparately`).
   */
  readPage(userId: string, range: TimelineRange, count: number, prefetch: number): Promise<TimelinePageRead>;
  /** Adds the ids to each user's timeline that is warm or being rebuilt; others are left cold. */
  add(userIds: readonly string[], ids: readonly string[]): Promise<void>;
  /** Removes the ids from each user's timeline (warm or not) and changes each user's version. */
  remove(userIds: readonly string[], ids: readonly string[]): Promise<void>;
  /** The oldest id in a user's timeline (warm or being rebuilt), or null. */
  oldest(userId: string): Promise<string | null>;
  /** Marks a rebuild as started and returns the version `fill` must still see. */
  beginRebuild(userId: string): Promise<string>;
  /**
   * Merges the rebuilt ids (newest first, every id of the timeline at or above `floor`) into the
   * timeline and makes it warm, with its `large` list; false (nothing written) when the version
   * changed since `beginRebuild`.
   */
  fill(userId: string, version: string, rebuilt: { ids: readonly string[]; floor: string | null; large: readonly string[]; largeEpoch: string }): Promise<boolean>;
  /** Stores a recomputed `large` list of a warm timeline, unless the version changed. */
  storeLarge(userId: string, version: string, large: readonly string[], largeEpoch: string): Promise<boolean>;
  /** Drops a user's `large` list (they followed or unfollowed a large author) and changes their version. */
  forgetLarge(userId: string): Promise<void>;
  /** Makes a user's timeline cold. */
  evict(userId: string): Promise<void>;
  largeEpoch(): Promise<string>;
  bumpLargeEpoch(): Promise<void>;
  close(): Promise<void>;
}

export interface TimelineCacheOptions {
  /** Ids kept per user. @default 800 */
  capacity: number;
  /** A timeline nobody reads or writes for this long goes cold. @default 7 days */
  ttlMs: number;
  /**
   * Redis only: the full key prefix of cached tweet bodies (the body cache's key of tweet `id` is
   * this plus `id`), so `readPage` can prefetch them. Without it, `readPage` prefetches nothing.
   */
  bodyKeyPrefix?: string;
}

/** `readPage` of a store that does not prefetch bodies: `read` and `largeEpoch` side by side. */
export async function readSeparately(cache: TimelineCache, userId: string, range: TimelineRange, count: number): Promise<TimelinePageRead> {
  const [state, epoch] = await Promise.all([cache.read(userId, range, count), cache.largeEpoch()]);
  return { state, epoch, bodies: null };
}
