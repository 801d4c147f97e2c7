import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { RateDecision, RateLimiter, RateRule } from './rate-limiter.ts';

// Atomic: count the hit, start the window on the first one, report count and time left.
const HIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

/** Counters in Redis, shared by every node. Fails open (allows, logs) when Redis is unreachable. */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
    private readonly log: Logger,
    private readonly onError: () => void = () => {},
  ) {
    redis.defineCommand('flockRateHit', { numberOfKeys: 1, lua: HIT });
  }

  async hit(key: string, rule: RateRule): Promise<RateDecision> {
    try {
      const cmd = (this.redis as unknown as { flockRateHit(k: string, w: number): Promise<[number, number]> }).flockRateHit;
      const [count, ttl] = await cmd.call(this.redis, `${this.prefix}rl:${key}`, rule.windowMs);
      const allowed = count <= rule.limit;
      return { allowed, remaining: Math.max(0, rule.limit - count), retryAfterMs: allowed ? 0 : Math.max(1, ttl) };
    } catch (err) {
      this.onError();
      // The key may hold an email address: log only its kind.
      this.log.warn({ err: (err as Error).message, rule: key.split(':')[0] }, 'rate limiter unavailable; allowing the request');
      return { allowed: true, remaining: rule.limit, retryAfterMs: 0 };
    }
  }

  async close(): Promise<void> {
    // The Redis connection belongs to the composition root.
  }
}
