import { readSeparately, type CachedTimeline, type TimelineCache, type TimelineCacheOptions, type TimelinePageRead, type TimelineRange } from './timeline-cache.ts';

interface Entry {
  /** Ascending. */
  ids: bigint[];
  warm: boolean;
  rebuilding: boolean;
  floor: bigint | null;
  version: number;
  large: string[] | null;
  largeEpoch: string | null;
  expiresAt: number;
}

/** First index whose id is greater than `id` (ids ascending). */
function upperBound(ids: readonly bigint[], id: bigint): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ids[mid]! <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One process's timelines, for the embedded default. Besides the TTL, at most `maxUsers`
 * timelines are kept: the least recently used beyond that are evicted (Map order is use order).
 */
export class MemoryTimelineCache implements TimelineCache {
  private readonly users = new Map<string, Entry>();
  private epoch = 0;
  /** Versions come from one counter, so a user dropped and re-created never repeats an old version. */
  private clock = 0;

  constructor(
    private readonly opts: TimelineCacheOptions & { maxUsers: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** The live entry of a user, moved to the most recently used end; expired entries are dropped. */
  private entry(userId: string, create: boolean): Entry | undefined {
    let e = this.users.get(userId);
    if (e && e.expiresAt <= this.now()) {
      e = { ids: [], warm: false, rebuilding: false, floor: null, version: ++this.clock, large: null, largeEpoch: null, expiresAt: 0 };
      this.users.set(userId, e);
    }
    if (!e) {
      if (!create) return undefined;
      e = { ids: [], warm: false, rebuilding: false, floor: null, version: ++this.clock, large: null, largeEpoch: null, expiresAt: 0 };
    }
    this.users.delete(userId);
    this.users.set(userId, e);
    e.expiresAt = this.now() + this.opts.ttlMs;
    while (this.users.size > this.opts.maxUsers) {
      const [lru] = this.users.keys();
      if (lru === undefined) break;
      this.users.delete(lru);
    }
    return e;
  }

  private insert(e: Entry, ids: readonly string[]): void {
    for (const s of ids) {
      const id = BigInt(s);
      if (e.floor !== null && id < e.floor) continue;
      const i = upperBound(e.ids, id);
      if (i > 0 && e.ids[i - 1] === id) continue;
      e.ids.splice(i, 0, id);
    }
    const extra = e.ids.length - this.opts.capacity;
    if (extra > 0) {
      e.ids.splice(0, extra);
      const low = e.ids[0]!;
      if (e.floor === null || low > e.floor) e.floor = low;
    }
  }

  read(userId: string, range: TimelineRange, count: number): Promise<CachedTimeline | null> {
    const e = this.entry(userId, false);
    if (!e?.warm) return Promise.resolve(null);
    let hi = range.upTo === undefined ? e.ids.length : upperBound(e.ids, BigInt(range.upTo));
    const after = range.after === undefined ? null : BigInt(range.after);
    const ids: string[] = [];
    while (hi > 0 && ids.length < count) {
      const id = e.ids[--hi]!;
      if (after !== null && id <= after) break;
      ids.push(id.toString());
    }
    return Promise.resolve({
      ids,
      floor: e.floor === null ? null : e.floor.toString(),
      large: e.large === null ? null : [...e.large],
      largeEpoch: e.largeEpoch,
      version: String(e.version),
    });
  }

  add(userIds: readonly string[], ids: readonly string[]): Promise<void> {
    for (const u of userIds) {
      const e = this.users.get(u);
      if (!e || e.expiresAt <= this.now() || !(e.warm || e.rebuilding)) continue;
      this.insert(this.entry(u, false)!, ids);
    }
    return Promise.resolve();
  }

  remove(userIds: readonly string[], ids: readonly string[]): Promise<void> {
    const gone = new Set(ids.map((s) => BigInt(s)));
    for (const u of userIds) {
      const e = this.entry(u, true)!;
      e.ids = e.ids.filter((id) => !gone.has(id));
      e.version = ++this.clock;
    }
    return Promise.resolve();
  }

  oldest(userId: string): Promise<string | null> {
    const e = this.entry(userId, false);
    return Promise.resolve(e && e.ids.length > 0 ? e.ids[0]!.toString() : null);
  }

  beginRebuild(userId: string): Promise<string> {
    const e = this.entry(userId, true)!;
    e.rebuilding = true;
    return Promise.resolve(String(e.version));
  }

  fill(userId: string, version: string, rebuilt: { ids: readonly string[]; floor: string | null; large: readonly string[]; largeEpoch: string }): Promise<boolean> {
    const e = this.entry(userId, true)!;
    if (String(e.version) !== version) return Promise.resolve(false);
    if (rebuilt.floor !== null && (e.floor === null || BigInt(rebuilt.floor) > e.floor)) e.floor = BigInt(rebuilt.floor);
    if (e.floor !== null) e.ids = e.ids.slice(upperBound(e.ids, e.floor - 1n));
    this.insert(e, rebuilt.ids);
    e.warm = true;
    e.rebuilding = false;
    e.large = [...rebuilt.large];
    e.largeEpoch = rebuilt.largeEpoch;
    return Promise.resolve(true);
  }

  storeLarge(userId: string, version: string, large: readonly string[], largeEpoch: string): Promise<boolean> {
    const e = this.entry(userId, false);
    if (!e?.warm || String(e.version) !== version) return Promise.resolve(false);
    e.large = [...large];
    e.largeEpoch = largeEpoch;
    return Promise.resolve(true);
  }

  forgetLarge(userId: string): Promise<void> {
    const e = this.entry(userId, true)!;
    e.large = null;
    e.largeEpoch = null;
    e.version = ++this.clock;
    return Promise.resolve();
  }

  evict(userId: string): Promise<void> {
    const e = this.entry(userId, true)!;
    Object.assign(e, { ids: [], warm: false, rebuilding: false, floor: null, large: null, largeEpoch: null });
    e.version = ++this.clock;
    return Promise.resolve();
  }

  readPage(userId: string, range: TimelineRange, count: number): Promise<TimelinePageRead> {
    return readSeparately(this, userId, range, count);
  }

  largeEpoch(): Promise<string> {
    return Promise.resolve(String(this.epoch));
  }

  bumpLargeEpoch(): Promise<void> {
    this.epoch++;
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.users.clear();
    return Promise.resolve();
  }
}
