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

  it('holds pushes for the window after the first one, then emits them together in order', () => {
    const { push, emitted, batches } = make(5);
    push('a');
    vi.advanceTimersByTime(3);
    push('b');
    push('c');
    expect(emitted).toEqual([]);
    vi.advanceTimersByTime(2); // 5 ms after 'a', not after 'c'
    expect(emitted).toEqual(['a', 'b', 'c']);
    expect(batches).toEqual([3]);

    push('d'); // a new window starts with the next push
    vi.advanceTimersByTime(4);
    expect(emitted).toHaveLength(3);
    vi.advanceTimersByTime(1);
    expect(emitted).toEqual(['a', 'b', 'c', 'd']);
    expect(batches).toEqual([3, 1]);
  });

  it('emits a full batch at once, without waiting for the window', () => {
    const { push, emitted, batches } = make(1000, 3);
    push('a');
    push('b');
    push('c');
    expect(emitted).toEqual(['a', 'b', 'c']);
    push('d');
    vi.advanceTimersByTime(999);
    expect(emitted).toHaveLength(3);
    vi.advanceTimersByTime(1);
    expect(batches).toEqual([3, 1]);
  });

  it('emits at once with a window of 0', () => {
    const { push, emitted } = make(0);
    push('a');
    expect(emitted).toEqual(['a']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('flush() emits what waits now and cancels the timer', () => {
    const { c, push, emitted, batches } = make(50);
    push('a');
    push('b');
    c.flush();
    expect(emitted).toEqual(['a', 'b']);
    expect(vi.getTimerCount()).toBe(0);
    c.flush(); // nothing waiting: no empty batch
    expect(batches).toEqual([2]);
  });

  it('reports an emit that throws and still emits the rest of the batch', () => {
    const { c, push, emitted, errors } = make(5);
    push('a');
    c.push(() => {
      throw new Error('adapter down');
    });
    push('c');
    vi.advanceTimersByTime(5);
    expect(emitted).toEqual(['a', 'c']);
    expect(errors).toEqual([new Error('adapter down')]);
  });
});
