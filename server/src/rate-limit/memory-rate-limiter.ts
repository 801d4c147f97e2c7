import type { RateDecision, RateLimiter, RateRule } from './rate-limiter.ts';

/** One process's counters; for the embedded default. Expired windows are swept every minute. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => {
      const t = this.now();
      for (const [k, w] of this.windows) if (w.resetAt <= t) this.windows.delete(k);
    }, 60_000);
    this.sweeper.unref();
  }

  hit(key: string, rule: RateRule): Promise<RateDecision> {
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || w.resetAt <= t) {
      w = { count: 0, resetAt: t + rule.windowMs };
      this.windows.set(key, w);
    }
    w.count++;
    const allowed = w.count <= rule.limit;
    return Promise.resolve({ allowed, remaining: Math.max(0, rule.limit - w.count), retryAfterMs: allowed ? 0 : w.resetAt - t });
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    return Promise.resolve();
  }
}
