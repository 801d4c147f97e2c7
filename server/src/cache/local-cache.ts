/**
 * A small in-process cache of values whose source of truth is elsewhere (PostgreSQL), kept
 * coherent across nodes by invalidation messages (see InvalidationBus):
 *
 * - an entry lives at most `ttlMs` from the moment it was read from the source, so a missed
 *   invalidation (a node cut from the bus) is bounded by the TTL;
 * - at most `maxEntries` entries (least recently used go first);
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
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
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
    // Most recently used last: eviction takes the first.
    this.entries.delete(key);
    this.entries.set(key, e);
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
    this.entries.set(key, { value, expiresAt: this.now() + this.opts.ttlMs });
    while (this.entries.size > this.opts.maxEntries) {
      const [oldest] = this.entries.keys();
      if (oldest === undefined) break;
      this.entries.delete(oldest);
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
