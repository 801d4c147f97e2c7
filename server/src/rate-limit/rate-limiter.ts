import type { RateRule } from '../config.ts';

export type { RateRule };

export interface RateDecision {
  allowed: boolean;
  /** Hits left in the current window (0 when refused). */
  remaining: number;
  /** When refused: milliseconds until the window resets. */
  retryAfterMs: number;
}

/**
 * Fixed-window counters: each `hit` counts one event against `key`; once
 * `rule.limit` events fall in one window of `rule.windowMs`, further hits are
 * refused until the window ends. Shared by all nodes when backed by Redis.
 * If the store is unreachable the limiter fails open (allows) rather than take
 * the API down with it; implementations log that.
 */
export interface RateLimiter {
  hit(key: string, rule: RateRule): Promise<RateDecision>;
  close(): Promise<void>;
}
