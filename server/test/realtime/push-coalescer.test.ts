import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { HIGH_LOAD, LoopLoad, LOW_LOAD, PushCoalescer } from '../../src/realtime/push-coalescer.ts';

describe('PushCoalescer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const make = (windowMs: number, maxBatch = 100) => {
    const emitted: string[] = [];
    const batches: number[] = [];
    const errors: unknown[] = [];
    const c = new PushCoalescer({ windowMs, maxBatch, onFlush: (n) => batches.push(n), onError: (e) => errors.push(e) });
    const push = (name: string) => c.push(() => emitted.push(name));
    return { c, push, emitted, batches, errors };
  };

  it('emits a push at once when idle, holds the next ones until the window closes, then emits them together in order', () => {
    const { push, emitted, batches } = make(5);
    push('a');
    expect(emitted).toEqual(['a']); // idle: no added latency
    vi.advanceTimersByTime(3);
    push('b');
    push('c');
    expect(emitted).toEqual(['a']);
    vi.advanceTimersByTime(2); // the window opened by 'a' closes
    expect(emitted).toEqual(['a', 'b', 'c']);
    expect(batches).toEqual([1, 2]);

    // That flush opened another window: 'd' waits for it.
    push('d');
    vi.advanceTimersByTime(4);
    expect(emitted).toHaveLength(3);
    vi.advanceTimersByTime(1);
    expect(emitted).toEqual(['a', 'b', 'c', 'd']);

    // A window that closes empty makes it idle again: the next push leaves at once.
    vi.advanceTimersByTime(5);
    expect(vi.getTimerCount()).toBe(0);
    push('e');
    expect(emitted).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(batches).toEqual([1, 2, 1, 1]);
  });

  it('emits a full batch without waiting for the window to close', () => {
    const { push, emitted, batches } = make(1000, 3);
    push('a');
    push('b');
    push('c');
    expect(emitted).toEqual(['a']);
    push('d');
    expect(emitted).toEqual(['a', 'b', 'c', 'd']);
    push('e');
    vi.advanceTimersByTime(999);
    expect(emitted).toHaveLength(4);
    vi.advanceTimersByTime(1);
    expect(emitted).toHaveLength(5);
    expect(batches).toEqual([1, 3, 1]);
  });

  it('emits at once with a window of 0', () => {
    const { push, emitted } = make(0);
    push('a');
    expect(emitted).toEqual(['a']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('flush() emits what waits now', () => {
    const { c, push, emitted, batches } = make(50);
    push('a');
    push('b');
    push('c');
    c.flush();
    expect(emitted).toEqual(['a', 'b', 'c']);
    c.flush(); // nothing waiting: no empty batch
    vi.advanceTimersByTime(50);
    expect(batches).toEqual([1, 2]);
  });

  it('reports an emit that throws and still emits the rest of the batch', () => {
    const { c, push, emitted, errors } = make(5);
    push('first');
    push('a');
    c.push(() => {
      throw new Error('adapter down');
    });
    push('c');
    vi.advanceTimersByTime(5);
    expect(emitted).toEqual(['first', 'a', 'c']);
    expect(errors).toEqual([new Error('adapter down')]);
  });

  describe('under load', () => {
    const loaded = (windowMs: number, maxWindowMs: number) => {
      const emitted: string[] = [];
      const batches: number[] = [];
      const closed: number[] = [];
      let load = 0;
      const c = new PushCoalescer({
        windowMs,
        maxWindowMs,
        maxBatch: 100,
        load: () => load,
        onFlush: (n) => batches.push(n),
        onWindow: (ms) => closed.push(ms),
        onError: () => {},
      });
      const push = (name: string) => c.push(() => emitted.push(name));
      /** `rounds` windows with two pushes arriving in each (`<a>i`, `<b>i`); the length of the window after each. */
      const pairs = (rounds: number, a: string, b: string): number[] => {
        const lengths: number[] = [];
        for (let i = 0; i < rounds; i++) {
          push(`${a}${i}`);
          push(`${b}${i}`);
          vi.advanceTimersByTime(c.windowMs);
          lengths.push(c.windowMs);
        }
        return lengths;
      };
      /** Fully busy, two pushes arriving in every window: the window doubles up to the maximum. */
      const stretch = () => {
        load = 1;
        push('first');
        while (c.windowMs < maxWindowMs) pairs(1, 'p', 'q');
      };
      return { c, emitted, batches, closed, setLoad: (v: number) => (load = v), push, pairs, stretch };
    };

    it('doubles the window while the loop is busy and pushes arrive during it, up to the maximum, and halves it back when the loop has time', () => {
      const { c, push, pairs, emitted, closed, setLoad } = loaded(10, 80);
      setLoad(HIGH_LOAD);
      push('a'); // idle and not stretched: at once
      expect(emitted).toEqual(['a']);
      expect(pairs(5, 'w', 'x')).toEqual([20, 40, 80, 80, 80]);
      expect(emitted).toEqual(['a', 'w0', 'x0', 'w1', 'x1', 'w2', 'x2', 'w3', 'x3', 'w4', 'x4']);
      // Each window that closed with pushes waiting is reported with the length it had.
      expect(closed).toEqual([10, 20, 40, 80, 80]);

      // Pushes arrived during the window, load between the marks: the window holds.
      setLoad((HIGH_LOAD + LOW_LOAD) / 2);
      push('m1');
      push('m2');
      vi.advanceTimersByTime(80);
      expect(c.windowMs).toBe(80);

      // The loop has time again: each window closing halves it, down to the base.
      setLoad(LOW_LOAD - 0.01);
      expect(pairs(4, 's', 't')).toEqual([40, 20, 10, 10]);
    });

    it('stretches on a single push arriving during a busy window (staggered pushes), not on the one that opened it', () => {
      const { c, push, setLoad } = loaded(10, 80);
      setLoad(1);
      push('a'); // opens a window, leaves at once
      vi.advanceTimersByTime(5);
      push('b'); // arrives during it
      vi.advanceTimersByTime(5);
      expect(c.windowMs).toBe(20);
      vi.advanceTimersByTime(20); // the window after the batch: nothing arrives, which says nothing about the load
      expect(c.windowMs).toBe(20);
    });

    it('while stretched, a push that finds it idle waits for its window and leaves with those that follow', () => {
      const { c, push, emitted, batches, stretch } = loaded(10, 80);
      stretch();
      vi.advanceTimersByTime(80); // closes empty: idle, the window keeps its length
      expect(vi.getTimerCount()).toBe(0);
      expect(c.windowMs).toBe(80);
      const before = emitted.length;
      push('lone'); // idle but stretched and busy: it waits
      expect(emitted).toHaveLength(before);
      vi.advanceTimersByTime(40);
      push('next');
      push('third');
      vi.advanceTimersByTime(40);
      expect(emitted.slice(before)).toEqual(['lone', 'next', 'third']);
      expect(batches.at(-1)).toBe(3);
    });

    it('shrinks when nothing arrives during its windows (pushes one at a time), however busy the loop, and then leaves them at once again', () => {
      const { c, push, emitted, stretch } = loaded(10, 80);
      stretch();
      // Lone pushes, 500 ms apart: each one that waited a stretched window alone halves the next
      // (80 -> 40 -> 20 -> 10); from then on pushes leave at once.
      const waits: number[] = [];
      for (let i = 0; i < 4; i++) {
        vi.advanceTimersByTime(500);
        const n = emitted.length;
        const t0 = Date.now();
        push(`lone${i}`);
        while (emitted.length === n) vi.advanceTimersByTime(1);
        waits.push(Date.now() - t0);
      }
      expect(waits).toEqual([80, 40, 20, 0]);
      expect(c.windowMs).toBe(10);
    });

    it('leads again at once when a push finds it idle and stretched but the loop has time', () => {
      const { c, push, emitted, setLoad, stretch } = loaded(10, 80);
      stretch();
      vi.advanceTimersByTime(1000);
      expect(c.windowMs).toBe(80);
      setLoad(LOW_LOAD - 0.01);
      push('quiet');
      expect(emitted.at(-1)).toBe('quiet');
      expect(c.windowMs).toBe(10);
    });

    it('does not stretch when pushes never wait (a lone push at a time), however busy the loop', () => {
      const { c, push, emitted, setLoad } = loaded(10, 200);
      setLoad(1);
      for (let i = 0; i < 5; i++) {
        push(String(i));
        expect(emitted).toHaveLength(i + 1); // at once every time
        vi.advanceTimersByTime(50);
      }
      expect(c.windowMs).toBe(10);
    });

    it('keeps a fixed window without a load reading or with the maximum at the base', () => {
      for (const o of [{ windowMs: 10, maxWindowMs: 200 }, { windowMs: 10, maxWindowMs: 10, load: () => 1 }]) {
        const c = new PushCoalescer({ ...o, maxBatch: 100, onError: () => {} });
        c.push(() => {});
        c.push(() => {});
        vi.advanceTimersByTime(10);
        expect(c.windowMs).toBe(10);
      }
    });
  });
});

describe('LoopLoad', () => {
  // A fake event loop: busy and idle milliseconds accumulate as eventLoopUtilization() reports them.
  const fakeLoop = () => {
    const totals = { active: 0, idle: 0, now: 0 };
    const elu = (since?: EventLoopUtilization): EventLoopUtilization => {
      const active = totals.active - (since?.active ?? 0);
      const idle = totals.idle - (since?.idle ?? 0);
      return { active, idle, utilization: active / Math.max(1e-9, active + idle) };
    };
    const run = (busyMs: number, idleMs: number) => {
      totals.active += busyMs;
      totals.idle += idleMs;
      totals.now += busyMs + idleMs;
    };
    return { load: new LoopLoad(1000, elu, () => totals.now), run };
  };

  it('follows the busy share of recent time, smoothed over about the horizon', () => {
    const { load, run } = fakeLoop();
    expect(load.read()).toBe(0);
    // Fully busy for 3 horizons: close to 1.
    for (let i = 0; i < 30; i++) {
      run(100, 0);
      load.read();
    }
    expect(load.read()).toBeGreaterThan(0.94);
    // One short idle moment barely moves it; a horizon of 25 % busy brings it down.
    run(0, 20);
    expect(load.read()).toBeGreaterThan(0.9);
    for (let i = 0; i < 40; i++) {
      run(25, 75);
      load.read();
    }
    expect(load.read()).toBeCloseTo(0.25, 1);
  });

  it('weighs a long gap between readings as a long time', () => {
    const { load, run } = fakeLoop();
    for (let i = 0; i < 30; i++) {
      run(100, 0);
      load.read();
    }
    run(1000, 9000); // 10 s, 10 % busy, read once
    expect(load.read()).toBeLessThan(0.11);
  });
});
