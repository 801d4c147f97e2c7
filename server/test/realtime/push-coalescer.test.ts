import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PushCoalescer } from '../../src/realtime/push-coalescer.ts';

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
});
