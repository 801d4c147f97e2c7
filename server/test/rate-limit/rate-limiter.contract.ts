import { setTimeout as delay } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RateDecision, RateLimiter, RateRule } from '../../src/rate-limit/rate-limiter.ts';

/**
 * The contract every RateLimiter implementation passes (fixed windows, see
 * server/src/rate-limit/rate-limiter.ts). Each test opens a limiter with
 * `open` and closes it afterwards; keys are unique per test, so implementations
 * backed by a shared store need no cleanup between tests.
 */
export function rateLimiterContract(open: () => Promise<RateLimiter>): void {
  let limiter: RateLimiter;
  let keyBase: string;
  const key = (name: string): string => `${keyBase}:${name}`;

  beforeEach(async () => {
    limiter = await open();
    keyBase = `contract:${randomUUID()}`;
  });
  afterEach(async () => {
    await limiter.close();
  });

  const hits = async (k: string, rule: RateRule, n: number): Promise<RateDecision[]> => {
    const out: RateDecision[] = [];
    for (let i = 0; i < n; i++) out.push(await limiter.hit(k, rule));
    return out;
  };

  describe('rate limiter contract', () => {
    const minute: RateRule = { limit: 5, windowMs: 60_000 };

    it('allows exactly `limit` hits in a window, then refuses with a retry time within the window', async () => {
      const decisions = await hits(key('exact'), minute, 8);
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, true, false, false, false]);
      for (const refused of decisions.slice(5)) {
        expect(refused.retryAfterMs).toBeGreaterThan(0);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(minute.windowMs);
      }
      // The window started with the first hit, moments ago: nearly all of it is left.
      expect(decisions[5]!.retryAfterMs).toBeGreaterThan(minute.windowMs - 5_000);
    });

    it('counts remaining hits down to 0, with no retry time while allowed', async () => {
      const decisions = await hits(key('countdown'), minute, 6);
      expect(decisions.map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0, 0]);
      expect(decisions.slice(0, 5).map((d) => d.retryAfterMs)).toEqual([0, 0, 0, 0, 0]);
    });

    it('does not extend the window with refused hits', async () => {
      const [, first, second] = await hits(key('no-extend'), { limit: 1, windowMs: 60_000 }, 3);
      expect(first!.allowed).toBe(false);
      expect(second!.allowed).toBe(false);
      expect(second!.retryAfterMs).toBeLessThanOrEqual(first!.retryAfterMs);
    });

    it('keeps separate keys independent', async () => {
      const rule: RateRule = { limit: 2, windowMs: 60_000 };
      await hits(key('a'), rule, 2);
      expect((await limiter.hit(key('a'), rule)).allowed).toBe(false);
      const b = await limiter.hit(key('b'), rule);
      expect(b).toMatchObject({ allowed: true, remaining: 1 });
      // Nor does refusing `a` count against `b`.
      await hits(key('a'), rule, 3);
      expect(await limiter.hit(key('b'), rule)).toMatchObject({ allowed: true, remaining: 0 });
    });

    it('allows a limit of 1', async () => {
      const [first, second] = await hits(key('one'), { limit: 1, windowMs: 60_000 }, 2);
      expect(first).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
      expect(second?.allowed).toBe(false);
    });

    it('allows hits again, with a full allowance, once the window has passed', async () => {
      // The window is the behaviour under test, so this test waits for it (300 ms).
      const rule: RateRule = { limit: 2, windowMs: 300 };
      const k = key('window');
      const decisions = await hits(k, rule, 3);
      const refused = decisions[2]!;
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(rule.windowMs);
      await delay(refused.retryAfterMs + 30);
      const again = await limiter.hit(k, rule);
      expect(again).toEqual({ allowed: true, remaining: 1, retryAfterMs: 0 });
      expect((await limiter.hit(k, rule)).allowed).toBe(true);
      expect((await limiter.hit(k, rule)).allowed).toBe(false);
    });

    it('never allows more than `limit` of 50 concurrent hits', async () => {
      const rule: RateRule = { limit: 10, windowMs: 60_000 };
      const decisions = await Promise.all(Array.from({ length: 50 }, () => limiter.hit(key('burst'), rule)));
      const allowed = decisions.filter((d) => d.allowed);
      expect(allowed).toHaveLength(10);
      // Each allowed hit saw its own count: remaining takes every value from 9 down to 0 once.
      expect(allowed.map((d) => d.remaining).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      for (const d of decisions.filter((x) => !x.allowed)) {
        expect(d.remaining).toBe(0);
        expect(d.retryAfterMs).toBeGreaterThan(0);
      }
    });

    it('keeps separate keys independent under concurrent hits', async () => {
      const rule: RateRule = { limit: 3, windowMs: 60_000 };
      const names = ['x', 'y', 'z'];
      const decisions = await Promise.all(
        names.flatMap((n) => Array.from({ length: 10 }, () => limiter.hit(key(n), rule).then((d) => ({ n, d })))),
      );
      for (const n of names) expect(decisions.filter((x) => x.n === n && x.d.allowed)).toHaveLength(3);
    });
  });
}
