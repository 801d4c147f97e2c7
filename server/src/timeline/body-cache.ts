/**
 * A read-through cache of serialized bodies (tweets and their authors' summaries) in front of
 * PostgreSQL, which stays the source of truth. Values are opaque strings under string keys.
 *
 * Guarantees every implementation keeps (server/test/timeline/body-cache.contract.ts):
 * - `getMany` returns only keys that hold a value; anything else (never filled, expired,
 *   invalidated) is absent and the caller reads PostgreSQL.
 * - `fill` stores a value only where the key is empty (never over a value or a guard), with
 *   `ttlMs`, so a value lives at most that long.
 * - `invalidate` drops the values and, for `guardMs`, refuses fills of those keys: a reader that
 *   read PostgreSQL before the change committed and fills after the invalidation cannot put the
 *   old value back (unless it takes longer than `guardMs` between its read and its fill).
 */
export interface BodyCache {
  getMany(keys: readonly string[]): Promise<Map<string, string>>;
  fill(entries: ReadonlyArray<readonly [key: string, value: string]>): Promise<void>;
  invalidate(keys: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export interface BodyCacheOptions {
  /** How long a filled value lives. @default 1 hour */
  ttlMs: number;
  /** How long an invalidated key refuses fills. @default 10 s */
  guardMs: number;
}
