import { Cluster } from 'ioredis';
import type { RedisClient } from '../redis/open-redis.ts';
import type { BodyCache, BodyCacheOptions } from './body-cache.ts';

/** An invalidation guard: a value no fill can write over (fills are SET NX) and getMany skips. */
export const BODY_GUARD = '\u0000';

/**
 * Bodies in Redis under `<prefix>b:<key>`, shared by every node. One MGET per read; in a Cluster,
 * where MGET works only within one slot, one GET per key (sent together, routed by the client).
 */
export class RedisBodyCache implements BodyCache {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly opts: BodyCacheOptions,
  ) {}

  private key(k: string): string {
    return RedisBodyCache.keyOf(this.prefix, k);
  }

  /** The Redis key of cache key `k` under REDIS_KEY_PREFIX `prefix`. */
  static keyOf(prefix: string, k: string): string {
    return `${prefix}b:${k}`;
  }

  async getMany(keys: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (keys.length === 0) return out;
    const values =
      this.redis instanceof Cluster
        ? await Promise.all(keys.map((k) => this.redis.get(this.key(k))))
        : await this.redis.mget(keys.map((k) => this.key(k)));
    keys.forEach((k, i) => {
      const v = values[i];
      if (v != null && v !== BODY_GUARD) out.set(k, v);
    });
    return out;
  }

  async fill(entries: ReadonlyArray<readonly [string, string]>): Promise<void> {
    await Promise.all(entries.map(([k, v]) => this.redis.set(this.key(k), v, 'PX', this.opts.ttlMs, 'NX')));
  }

  async invalidate(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((k) => this.redis.set(this.key(k), BODY_GUARD, 'PX', this.opts.guardMs)));
  }

  async close(): Promise<void> {
    // The Redis connection belongs to the composition root.
  }
}
