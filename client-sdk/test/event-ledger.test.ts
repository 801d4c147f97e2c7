import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/backoff.ts';
import { LedgerKind, RecentIds } from '../src/event-ledger.ts';
import { compareIds } from '../src/ids.ts';

describe('compareIds', () => {
  it('orders decimal ids beyond 2^53 by value, not as text', () => {
    expect(compareIds('9', '10')).toBeLessThan(0);
    expect(compareIds('382925260735868929', '382925260735868928')).toBeGreaterThan(0);
    expect(compareIds('382925260735868928', '382925260735868928')).toBe(0);
  });
});

describe('LedgerKind', () => {
  it('accepts an id once and tracks the newest as the sync cursor', () => {
    const l = new LedgerKind();
    expect(l.known).toBe(false);
    expect(l.accept('100')).toBe(true);
    expect(l.accept('100')).toBe(false);
    expect(l.accept('99')).toBe(true); // late, out of order, but never seen: news
    expect(l.newest).toBe('100');
    expect(l.known).toBe(true);
  });

  it('never delivers what an HTTP page already showed, nor history below the floor', () => {
    const l = new LedgerKind();
    l.markSeen(['5', '7']);
    l.raiseFloor('3');
    expect(l.accept('7')).toBe(false);
    expect(l.accept('2')).toBe(false);
    expect(l.accept('6')).toBe(true);
  });

  it('an empty first page means everything after it is news', () => {
    const l = new LedgerKind();
    l.raiseFloor('0');
    expect(l.known).toBe(true);
    expect(l.newest).toBeNull();
    expect(l.accept('1')).toBe(true);
  });

  it('forgets the oldest ids past its capacity and counts them as seen from then on', () => {
    const l = new LedgerKind(3);
    for (const id of ['10', '11', '12', '13']) l.accept(id);
    expect(l.accept('10')).toBe(false); // forgotten, below the floor
    expect(l.accept('12')).toBe(false); // still remembered
    expect(l.accept('14')).toBe(true);
  });

  it('reset forgets everything (another account logged in)', () => {
    const l = new LedgerKind();
    l.accept('1');
    l.reset();
    expect(l.known).toBe(false);
    expect(l.accept('1')).toBe(true);
  });
});

describe('RecentIds', () => {
  it('drops repeats per event name', () => {
    const r = new RecentIds(2);
    expect(r.accept('stream:live', 'a')).toBe(true);
    expect(r.accept('stream:live', 'a')).toBe(false);
    expect(r.accept('stream:ended', 'a')).toBe(true);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, with half of each delay random', () => {
    const opts = { minDelayMs: 100, maxDelayMs: 1000, factor: 2 };
    expect(backoffDelay(0, opts, () => 0)).toBe(50);
    expect(backoffDelay(0, opts, () => 1)).toBe(100);
    expect(backoffDelay(3, opts, () => 1)).toBe(800);
    expect(backoffDelay(10, opts, () => 1)).toBe(1000);
    expect(backoffDelay(10, opts, () => 0)).toBe(500);
  });

  it('spreads clients that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(4)));
    expect(delays.size).toBeGreaterThan(25);
  });
});
