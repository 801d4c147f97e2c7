import { randomBytes } from 'node:crypto';
import { Cluster, type Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { RedisClient } from '../redis/open-redis.ts';
import type { NearPages } from './near-pages.ts';
import { RedisTracking } from './redis-tracking.ts';
import { BODY_GUARD } from './redis-body-cache.ts';
import { readSeparately, type CachedTimeline, type TimelineCache, type TimelineCacheOptions, type TimelinePageRead, type TimelineRange } from './timeline-cache.ts';

/**
 * Timelines in Redis, shared by every node. Per user two keys in one Cluster slot (the user id is
 * the hash tag, so each script touches one slot):
 * - `<prefix>tl:{<user>}`: a sorted set of tweet ids, all with score 0 and zero-padded to 20
 *   digits, so lexicographic order is numeric order and ranges are exact (scores are doubles and
 *   cannot hold 64-bit ids). A warm timeline also holds the member "" (the lowest of all), so it
 *   exists even when empty; ranges start above it.
 * - `<prefix>tl:{<user>}:m`: a hash with warm, rebuilding, floor, version, large, epoch.
 * Both keys get the TTL on every read and write; a read trusts them only when both say warm, so a
 * maxmemory eviction of either one makes the timeline cold.
 * The global large epoch is one more key (`<prefix>tl:large-epoch`), read by its own command, or
 * (standalone Redis, not a Cluster) by `readPage` with the timeline and the page's cached bodies.
 */

const pad = (id: string): string => id.padStart(20, '0');
const unpad = (m: string): string => m.replace(/^0+(?=\d)/, '');

// Shared Lua: add ids (skipping those below the floor), keep the newest ARGV cap, raise the floor.
const INSERT = `
local function insert(z, m, cap, first, last)
  local floor = redis.call('HGET', m, 'floor')
  for i = first, last do
    local id = ARGV[i]
    if not floor or id >= floor then redis.call('ZADD', z, 0, id) end
  end
  local base = redis.call('ZSCORE', z, '') and 1 or 0
  local n = redis.call('ZCARD', z) - base
  if n > cap then
    redis.call('ZREMRANGEBYRANK', z, base, base + n - cap - 1)
    local low = redis.call('ZRANGE', z, base, base)[1]
    if not floor or low > floor then redis.call('HSET', m, 'floor', low) end
  end
end
local function touch(z, m, ttl)
  redis.call('PEXPIRE', z, ttl)
  redis.call('PEXPIRE', m, ttl)
end
`;

// Shared Lua: a warm timeline's meta and the ids in ARGV 1–3's range (nil when it is cold), and
// the reply fields READ, READ_PAGE and NEAR_READ_PAGE share.
const READ_TIMELINE = `
local function read_timeline()
  local meta = redis.call('HMGET', KEYS[2], 'warm', 'floor', 'large', 'epoch', 'version')
  if not meta[1] or not redis.call('ZSCORE', KEYS[1], '') then return nil end
  return meta, redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'BYLEX', 'REV', 'LIMIT', 0, tonumber(ARGV[3]))
end
local function timeline_reply(meta, ids)
  return {ids, meta[2] or '', meta[3] or false, meta[4] or '', meta[5] or ''}
end
local function renew(ttl)
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
`;

// KEYS z m · ARGV upper lower count ttl → false | {ids, floor, large, epoch, version}
const READ = `${READ_TIMELINE}
local meta, ids = read_timeline()
if not meta then return false end
renew(ARGV[4])
return timeline_reply(meta, ids)`;

// The page read of the home timeline, one round trip: READ, the global large epoch and the cached
// bodies of the first ARGV[7] ids, joined by newlines (JSON text never holds a raw newline; a
// missing body is an empty string). Measured against READ + GET + MGET: about 50 µs less gateway
// CPU per page and 35 µs more Redis CPU (Lua copies the bodies); returning MGET's array instead of
// one string costs Redis 15 µs less and the gateway as much more. The gateway's single event loop
// is the bottleneck, so the work goes to Redis.
// The epoch and body keys are not declared: standalone Redis (and Sentinel) only, never a Cluster.
// KEYS z m · ARGV upper lower count ttl epochKey bodyPrefix prefetch → {false, epoch} | {ids, floor, large, epoch, version, globalEpoch, bodies}
const READ_PAGE = `${READ_TIMELINE}
local global = redis.call('GET', ARGV[5]) or '0'
local meta, ids = read_timeline()
if not meta then return {false, global} end
renew(ARGV[4])
local n = math.min(#ids, tonumber(ARGV[7]))
local bodies = ''
if n > 0 then
  local keys = {}
  for i = 1, n do keys[i] = ARGV[6] .. string.gsub(ids[i], '^0+(%d)', '%1') end
  local values = redis.call('MGET', unpack(keys))
  for i = 1, n do if not values[i] then values[i] = '' end end
  bodies = table.concat(values, '\\n')
end
local reply = timeline_reply(meta, ids)
reply[6] = global
reply[7] = bodies
return reply`;

// The page read of a node that keeps pages in process (NearPages), on its tracked reader
// connection: READ_PAGE without the bodies (they are in process too), with every key it reads
// declared, because Redis 7.0 tracks a script's declared keys (RedisTracking). The TTLs are renewed
// only once ARGV[5] ms of them have passed (a minute, or half of a shorter TTL): a renewal is a
// write, which Redis reports to every other node keeping this user's pages, and two nodes renewing
// on every read dropped each other's pages in turn, forever. A timeline read last at t still lives
// until at least t + ttl − ARGV[5]. The renewal comes first: the reader's own writes do not
// invalidate its pages (NOLOOP), and the reads after them are tracked whatever a Redis version
// does with writes inside a script.
// KEYS z m epochKey · ARGV upper lower count ttl slack → as READ_PAGE, with no bodies
const NEAR_READ_PAGE = `${READ_TIMELINE}
local ttl = tonumber(ARGV[4])
for i = 1, 2 do
  local left = redis.call('PTTL', KEYS[i])
  if left >= 0 and left < ttl - tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[i], ttl) end
end
local global = redis.call('GET', KEYS[3]) or '0'
local meta, ids = read_timeline()
if not meta then return {false, global} end
local reply = timeline_reply(meta, ids)
reply[6] = global
reply[7] = ''
return reply`;

// Adds ids to the warm (or rebuilding) timelines among those of KEYS. On standalone Redis and
// Sentinel one call covers up to ADD_MANY_USERS users: a small author's post adds its id to ~100
// timelines before the response, and one script instead of one per timeline saves Redis the
// per-command work and the gateway ~100 commands. On a Cluster each call holds one user's two keys
// (one slot). KEYS z1 m1 z2 m2 … · ARGV cap ttl ids… → timelines added to
const ADD_MANY = `${INSERT}
local added = 0
for k = 1, #KEYS, 2 do
  local state = redis.call('HMGET', KEYS[k + 1], 'warm', 'rebuilding')
  if state[1] or state[2] then
    insert(KEYS[k], KEYS[k + 1], tonumber(ARGV[1]), 3, #ARGV)
    touch(KEYS[k], KEYS[k + 1], ARGV[2])
    added = added + 1
  end
end
return added`;

/** A page read kept in process renews its timeline's TTL once this much of it has passed (NEAR_READ_PAGE). */
const RENEW_SLACK_MS = 60_000;

/** Users per ADD_MANY call: bounds how long one script holds Redis (about 10 µs a timeline). */
const ADD_MANY_USERS = 128;

// KEYS z m · ARGV newVersion ttl ids…
const REMOVE = `
for i = 3, #ARGV do redis.call('ZREM', KEYS[1], ARGV[i]) end
redis.call('HSET', KEYS[2], 'version', ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1`;

// KEYS z m · ARGV versionIfNone ttl → version
const BEGIN = `
local v = redis.call('HGET', KEYS[2], 'version')
if not v then v = ARGV[1]; redis.call('HSET', KEYS[2], 'version', v) end
redis.call('HSET', KEYS[2], 'rebuilding', '1')
redis.call('PEXPIRE', KEYS[2], ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v`;

// KEYS z m · ARGV version cap ttl floor large epoch ids… → 1 | 0
const FILL = `${INSERT}
if redis.call('HGET', KEYS[2], 'version') ~= ARGV[1] then return 0 end
local floor = redis.call('HGET', KEYS[2], 'floor')
if ARGV[4] ~= '' and (not floor or ARGV[4] > floor) then
  floor = ARGV[4]
  redis.call('HSET', KEYS[2], 'floor', floor)
end
if floor then redis.call('ZREMRANGEBYLEX', KEYS[1], '(', '(' .. floor) end
insert(KEYS[1], KEYS[2], tonumber(ARGV[2]), 7, #ARGV)
redis.call('ZADD', KEYS[1], 0, '')
redis.call('HSET', KEYS[2], 'warm', '1', 'large', ARGV[5], 'epoch', ARGV[6])
redis.call('HDEL', KEYS[2], 'rebuilding')
touch(KEYS[1], KEYS[2], ARGV[3])
return 1`;

// KEYS m · ARGV version large epoch → 1 | 0
const STORE_LARGE = `
local state = redis.call('HMGET', KEYS[1], 'warm', 'version')
if not state[1] or state[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'large', ARGV[2], 'epoch', ARGV[3])
return 1`;

// KEYS z m · ARGV newVersion ttl evict(0|1)
const FORGET = `
if ARGV[3] == '1' then
  redis.call('DEL', KEYS[1])
  redis.call('HDEL', KEYS[2], 'warm', 'rebuilding', 'floor')
end
redis.call('HDEL', KEYS[2], 'large', 'epoch')
redis.call('HSET', KEYS[2], 'version', ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1`;

type PageReply = [null, string] | [string[], string, string | null, string, string, string, string];

type Scripted = RedisClient & {
  flockTlReadPage(z: string, m: string, ...args: (string | number)[]): Promise<PageReply>;
  flockTlNearReadPage(z: string, m: string, epoch: string, ...args: (string | number)[]): Promise<PageReply>;
  flockTlRead(z: string, m: string, ...args: (string | number)[]): Promise<[string[], string, string | null, string, string] | null>;
  flockTlAdd(z: string, m: string, ...args: (string | number)[]): Promise<number>;
  /** numKeys, then the keys, then ARGV. */
  flockTlAddMany(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<number>;
  flockTlRemove(z: string, m: string, ...args: (string | number)[]): Promise<number>;
  flockTlBegin(z: string, m: string, ...args: (string | number)[]): Promise<string>;
  flockTlFill(z: string, m: string, ...args: (string | number)[]): Promise<number>;
  flockTlStoreLarge(m: string, ...args: (string | number)[]): Promise<number>;
  flockTlForget(z: string, m: string, ...args: (string | number)[]): Promise<number>;
};

/** A range as ZRANGE BYLEX bounds: inclusive upper, exclusive lower. */
function bounds(range: TimelineRange): [string, string] {
  const upper = range.upTo === undefined ? '+' : `[${pad(range.upTo)}`;
  // "(" alone is "above the empty member": the warm marker is never part of a range.
  const lower = `(${range.after === undefined ? '' : pad(range.after)}`;
  return [upper, lower];
}

/** A warm timeline from the reply of READ (or the same fields of READ_PAGE). */
function timeline([ids, floor, large, epoch, version]: [string[], string, string | null, string, string]): CachedTimeline {
  return {
    ids: ids.map(unpad),
    floor: floor === '' ? null : unpad(floor),
    large: large === null ? null : large === '' ? [] : large.split(','),
    largeEpoch: epoch === '' ? null : epoch,
    version,
  };
}

/** Commands to one user's keys go out together, at most this many at a time (fan-out to many followers). */
const CONCURRENCY = 256;

async function forEachChunk<T>(items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += CONCURRENCY) await Promise.all(items.slice(i, i + CONCURRENCY).map(fn));
}

/**
 * Whose pages a tracked key's invalidation concerns (RedisTracking reports key names): a user id,
 * or 'all' for the large epoch (every page holds it) and for anything unexpected (dropped safely).
 */
function userOfTimelineKey(prefix: string, key: string): string | 'all' {
  const tl = `${prefix}tl:{`;
  if (key.startsWith(tl)) {
    const end = key.indexOf('}', tl.length);
    if (end > tl.length) return key.slice(tl.length, end);
  }
  return 'all';
}

/**
 * Keeps `pages` coherent with the timelines under `prefix` (RedisTracking over `reader` and
 * `subscriber`, opened with READER_OPTIONS and SUBSCRIBER_OPTIONS): pages are usable only while
 * tracking is on, and a report of a user's timeline keys drops that user's pages (of the large
 * epoch, or of everything, all pages). `onReady` also hears every change of readiness.
 */
export function trackTimelinePages(d: { reader: Redis; subscriber: Redis; pages: NearPages; prefix: string; log: Logger; onReady?: (ready: boolean) => void }): RedisTracking {
  const { pages } = d;
  return new RedisTracking({
    reader: d.reader,
    subscriber: d.subscriber,
    log: d.log,
    onReady: (ready) => {
      pages.setUsable(ready);
      d.onReady?.(ready);
    },
    onInvalidate: (keys) => {
      const users = keys?.map((k) => userOfTimelineKey(d.prefix, k)) ?? ['all'];
      if (users.includes('all')) pages.clear();
      else pages.drop(users);
    },
  });
}

/**
 * Pages kept in process (standalone Redis and Sentinel): `reader` is the connection whose reads
 * Redis tracks (RedisTracking), `pages` what it keeps.
 */
export interface NearTimelines {
  reader: RedisClient;
  pages: NearPages;
  onRead?: (hit: boolean) => void;
}

export class RedisTimelineCache implements TimelineCache {
  private readonly r: Scripted;
  private readonly bodyKeyPrefix: string | undefined;
  private readonly cluster: boolean;
  private readonly near: (NearTimelines & { reader: Scripted }) | null;

  constructor(
    redis: RedisClient,
    private readonly prefix: string,
    private readonly opts: TimelineCacheOptions,
    near?: NearTimelines,
  ) {
    redis.defineCommand('flockTlRead', { numberOfKeys: 2, lua: READ });
    redis.defineCommand('flockTlReadPage', { numberOfKeys: 2, lua: READ_PAGE });
    // The same script twice: with its key count declared (what ioredis routes in a Cluster) and given per call.
    redis.defineCommand('flockTlAdd', { numberOfKeys: 2, lua: ADD_MANY });
    redis.defineCommand('flockTlAddMany', { lua: ADD_MANY });
    redis.defineCommand('flockTlRemove', { numberOfKeys: 2, lua: REMOVE });
    redis.defineCommand('flockTlBegin', { numberOfKeys: 2, lua: BEGIN });
    redis.defineCommand('flockTlFill', { numberOfKeys: 2, lua: FILL });
    redis.defineCommand('flockTlStoreLarge', { numberOfKeys: 1, lua: STORE_LARGE });
    redis.defineCommand('flockTlForget', { numberOfKeys: 2, lua: FORGET });
    this.r = redis as Scripted;
    // Prefetching reads keys of other slots, and so does adding to many timelines at once: not in a Cluster.
    this.cluster = redis instanceof Cluster;
    this.bodyKeyPrefix = this.cluster ? undefined : opts.bodyKeyPrefix;
    if (near && !this.cluster && !(near.reader instanceof Cluster)) {
      near.reader.defineCommand('flockTlNearReadPage', { numberOfKeys: 3, lua: NEAR_READ_PAGE });
      this.near = { ...near, reader: near.reader as Scripted };
    } else {
      this.near = null;
    }
  }

  /** What this node writes it forgets at once (and again when the write is done: a read under way meanwhile is not kept); Redis tells the other nodes. */
  private async written<T>(userIds: readonly string[] | 'all', write: () => Promise<T>): Promise<T> {
    const pages = this.near?.pages;
    if (!pages) return write();
    const forget = () => (userIds === 'all' ? pages.clear() : pages.drop(userIds));
    forget();
    try {
      return await write();
    } finally {
      forget();
    }
  }

  private keys(userId: string): [string, string] {
    const z = `${this.prefix}tl:{${userId}}`;
    return [z, `${z}:m`];
  }

  private static newVersion(): string {
    return randomBytes(8).toString('hex');
  }

  async read(userId: string, range: TimelineRange, count: number): Promise<CachedTimeline | null> {
    const r = await this.r.flockTlRead(...this.keys(userId), ...bounds(range), count, this.opts.ttlMs);
    return r ? timeline(r) : null;
  }

  async readPage(userId: string, range: TimelineRange, count: number, prefetch: number): Promise<TimelinePageRead> {
    if (prefetch === 0 && this.near?.pages.usable) return this.nearPage(userId, range, count);
    if (this.bodyKeyPrefix === undefined) return readSeparately(this, userId, range, count);
    return this.page(await this.r.flockTlReadPage(...this.keys(userId), ...bounds(range), count, this.opts.ttlMs, this.epochKey(), this.bodyKeyPrefix, prefetch), prefetch);
  }

  /** A page from process memory, or read on the tracked connection and kept (NearPages). */
  private async nearPage(userId: string, range: TimelineRange, count: number): Promise<TimelinePageRead> {
    const { pages, reader, onRead } = this.near!;
    const [upper, lower] = bounds(range);
    const query = `${upper} ${lower} ${count}`;
    const hit = pages.get(userId, query);
    onRead?.(hit !== undefined);
    if (hit) return hit;
    const guard = pages.begin(userId);
    try {
      const slack = Math.min(RENEW_SLACK_MS, this.opts.ttlMs / 2);
      const page = this.page(await reader.flockTlNearReadPage(...this.keys(userId), this.epochKey(), upper, lower, count, this.opts.ttlMs, slack), 0);
      pages.store(guard, query, page);
      return page;
    } finally {
      pages.end(guard);
    }
  }

  private page(r: PageReply, prefetch: number): TimelinePageRead {
    if (r[0] === null) return { state: null, epoch: r[1], bodies: null };
    const state = timeline([r[0], r[1], r[2], r[3], r[4]]);
    if (prefetch === 0) return { state, epoch: r[5], bodies: null };
    const bodies = new Map<string, string | null>();
    const values = r[6].split('\n');
    for (let i = 0; i < Math.min(prefetch, state.ids.length); i++) {
      const v = values[i];
      bodies.set(state.ids[i]!, v === undefined || v === '' || v === BODY_GUARD ? null : v);
    }
    return { state, epoch: r[5], bodies };
  }

  private epochKey(): string {
    return `${this.prefix}tl:large-epoch`;
  }

  async add(userIds: readonly string[], ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const members = ids.map(pad);
    const args = [this.opts.capacity, this.opts.ttlMs, ...members];
    if (this.cluster) {
      await forEachChunk(userIds, (u) => this.r.flockTlAdd(...this.keys(u), ...args));
      return;
    }
    await this.written(userIds, async () => {
      const calls: Promise<number>[] = [];
      for (let i = 0; i < userIds.length; i += ADD_MANY_USERS) {
        const keys = userIds.slice(i, i + ADD_MANY_USERS).flatMap((u) => this.keys(u));
        calls.push(this.r.flockTlAddMany(keys.length, ...keys, ...args));
      }
      await Promise.all(calls);
    });
  }

  async remove(userIds: readonly string[], ids: readonly string[]): Promise<void> {
    const members = ids.map(pad);
    await this.written(userIds, () => forEachChunk(userIds, (u) => this.r.flockTlRemove(...this.keys(u), RedisTimelineCache.newVersion(), this.opts.ttlMs, ...members)));
  }

  async oldest(userId: string): Promise<string | null> {
    const [first] = await this.r.zrange(this.keys(userId)[0], '(', '+', 'BYLEX', 'LIMIT', 0, 1);
    return first === undefined ? null : unpad(first);
  }

  beginRebuild(userId: string): Promise<string> {
    return this.written([userId], () => this.r.flockTlBegin(...this.keys(userId), RedisTimelineCache.newVersion(), this.opts.ttlMs));
  }

  async fill(userId: string, version: string, rebuilt: { ids: readonly string[]; floor: string | null; large: readonly string[]; largeEpoch: string }): Promise<boolean> {
    const floor = rebuilt.floor === null ? '' : pad(rebuilt.floor);
    const done = await this.written([userId], () => this.r.flockTlFill(
      ...this.keys(userId),
      version,
      this.opts.capacity,
      this.opts.ttlMs,
      floor,
      rebuilt.large.join(','),
      rebuilt.largeEpoch,
      ...rebuilt.ids.map(pad),
    ));
    return done === 1;
  }

  async storeLarge(userId: string, version: string, large: readonly string[], largeEpoch: string): Promise<boolean> {
    return (await this.written([userId], () => this.r.flockTlStoreLarge(this.keys(userId)[1], version, large.join(','), largeEpoch))) === 1;
  }

  async forgetLarge(userId: string): Promise<void> {
    await this.written([userId], () => this.r.flockTlForget(...this.keys(userId), RedisTimelineCache.newVersion(), this.opts.ttlMs, '0'));
  }

  async evict(userId: string): Promise<void> {
    await this.written([userId], () => this.r.flockTlForget(...this.keys(userId), RedisTimelineCache.newVersion(), this.opts.ttlMs, '1'));
  }

  async largeEpoch(): Promise<string> {
    return (await this.r.get(this.epochKey())) ?? '0';
  }

  async bumpLargeEpoch(): Promise<void> {
    await this.written('all', () => this.r.incr(this.epochKey()));
  }

  async close(): Promise<void> {
    // The Redis connection belongs to the composition root.
  }
}
