/**
 * A small in-process cache of values whose source of truth is elsewhere (PostgreSQL), kept
 * coherent across nodes by invalidation messages (see InvalidationBus):
 *
 * - an entry lives at most `ttlMs` from the moment it was read from the source, so a missed
 *   invalidation (a node cut from the bus) is bounded by the TTL;
 * - at most `maxEntries` entries; eviction is "second chance" (CLOCK), close to least recently
 *   used: the oldest stored entry not read since it was stored (or last given its chance) goes
 *   first. A hit only marks its entry; order is fixed up when something must be evicted;
 * - fills are guarded: `ticket()` is taken before reading the source, and `set` refuses the value
 *   when any invalidation happened since (a reader that read the source before a change
 *   committed cannot put the old value back after the change's invalidation arrived);
 * - while `usable()` says no (the bus is down, so invalidations may be missed), nothing is served
 *   and nothing is stored: every read goes to the source.
 */
export interface LocalCacheOptions {
  ttlMs: number;
  maxEntries: number;
  /** When false, the cache neither answers nor stores. @default always usable */
  usable?: () => boolean;
  now?: () => number;
}

export class LocalCache<V> {
  /** In insertion (or last move) order; `hit` when read since it was put there. */
  private readonly entries = new Map<string, { value: V; expiresAt: number; hit: boolean }>();
  /** Bumped by every invalidation; a fill whose ticket is older is refused. */
  private generation = 0;
  private readonly now: () => number;
  private readonly usable: () => boolean;

  constructor(private readonly opts: LocalCacheOptions) {
    this.now = opts.now ?? Date.now;
    this.usable = opts.usable ?? (() => true);
  }

  get enabled(): boolean {
    return this.opts.ttlMs > 0 && this.opts.maxEntries > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    if (!this.enabled || !this.usable()) return undefined;
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    // Only marked: moving the entry to the end of the map on every hit (delete + set) was the
    // largest item of a cached timeline page's author lookups. Eviction gives it its second chance.
    e.hit = true;
    return e.value;
  }

  /** Take before reading the source; pass to `set`. */
  ticket(): number {
    return this.generation;
  }

  /** Stores a value read from the source after `ticket` was taken; false when refused. */
  set(key: string, value: V, ticket: number): boolean {
    if (!this.enabled || !this.usable() || ticket !== this.generation) return false;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + this.opts.ttlMs, hit: false });
    while (this.entries.size > this.opts.maxEntries) {
      // The oldest placed goes, unless it was read since it was placed (or is the one just
      // stored): then it moves to the end and the next one is looked at. An entry moves at most
      // once per read, so this ends.
      const first = this.entries.entries().next();
      if (first.done) break;
      const [oldest, e] = first.value;
      this.entries.delete(oldest);
      if (e.hit || oldest === key) {
        e.hit = false;
        this.entries.set(oldest, e);
      }
    }
    return true;
  }

  delete(keys: Iterable<string>): void {
    this.generation++;
    for (const k of keys) this.entries.delete(k);
  }

  deleteWhere(match: (key: string, value: V) => boolean): void {
    this.generation++;
    for (const [k, e] of this.entries) if (match(k, e.value)) this.entries.delete(k);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}
