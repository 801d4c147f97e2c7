import { describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from '../../src/rate-limit/memory-rate-limiter.ts';
import { rateLimiterContract } from './rate-limiter.contract.ts';

describe('MemoryRateLimiter', () => {
  rateLimiterContract(async () => new MemoryRateLimiter());

  describe('with an injected clock', () => {
    it('reports the exact time left in the window and resets when it ends', async () => {
      let t = 1_000_000;
      const limiter = new MemoryRateLimiter(() => t);
      const rule = { limit: 2, windowMs: 10_000 };
      try {
        await limiter.hit('k', rule);
        t += 3_000;
        await limiter.hit('k', rule);
        t += 1_000;
        expect(await limiter.hit('k', rule)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 6_000 });
        t += 5_999;
        expect(await limiter.hit('k', rule)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 1 });
        t += 1;
        expect(await limiter.hit('k', rule)).toEqual({ allowed: true, remaining: 1, retryAfterMs: 0 });
      } finally {
        await limiter.close();
      }
    });
  });
});
