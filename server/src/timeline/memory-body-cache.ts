import type { BodyCache, BodyCacheOptions } from './body-cache.ts';

/** One process's bodies, for the embedded default: at most `maxEntries` (least recently used go first). */
export class MemoryBodyCache implements BodyCache {
  /** value null: an invalidation guard. */
  private readonly entries = new Map<string, { value: string | null; expiresAt: number }>();

  constructor(
    private readonly opts: BodyCacheOptions & { maxEntries: number },
    private readonly now: () => number = Date.now,
  ) {}

  private live(key: string) {
    const e = this.entries.get(key);
    if (e && e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  private put(key: string, value: string | null, ttlMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
    while (this.entries.size > this.opts.maxEntries) {
      const [lru] = this.entries.keys();
      if (lru === undefined) break;
      this.entries.delete(lru);
    }
  }

  getMany(keys: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const k of keys) {
      const e = this.live(k);
      if (e?.value != null) {
        out.set(k, e.value);
        this.entries.delete(k);
        this.entries.set(k, e);
      }
    }
    return Promise.resolve(out);
  }

  fill(entries: ReadonlyArray<readonly [string, string]>): Promise<void> {
    for (const [k, v] of entries) if (!this.live(k)) this.put(k, v, this.opts.ttlMs);
    return Promise.resolve();
  }

  invalidate(keys: readonly string[]): Promise<void> {
    for (const k of keys) this.put(k, null, this.opts.guardMs);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.entries.clear();
    return Promise.resolve();
  }
}
