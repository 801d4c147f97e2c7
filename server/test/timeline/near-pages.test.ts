import { describe, expect, it } from 'vitest';
import { NearPages } from '../../src/timeline/near-pages.ts';
import type { TimelinePageRead } from '../../src/timeline/timeline-cache.ts';

const page = (...ids: string[]): TimelinePageRead => ({ state: { ids, floor: null, large: [], largeEpoch: '0', version: 'v' }, epoch: '0', bodies: null });

function pages(opts: { ttlMs?: number; maxUsers?: number } = {}) {
  let now = 1_000;
  const p = new NearPages({ ttlMs: opts.ttlMs ?? 5_000, maxUsers: opts.maxUsers ?? 10, now: () => now });
  p.setUsable(true);
  const keep = (user: string, query: string, read: TimelinePageRead) => {
    const g = p.begin(user);
    const kept = p.store(g, query, read);
    p.end(g);
    return kept;
  };
  return { p, keep, advance: (ms: number) => (now += ms) };
}

describe('NearPages (timeline pages kept in process)', () => {
  it('serves what was stored, per user and query, until its time is up', () => {
    const { p, keep, advance } = pages();
    expect(keep('1', 'q', page('9', '8'))).toBe(true);
    keep('1', 'r', page('7'));
    expect(p.get('1', 'q')?.state?.ids).toEqual(['9', '8']);
    expect(p.get('1', 'r')?.state?.ids).toEqual(['7']);
    expect(p.get('2', 'q')).toBeUndefined();
    advance(4_999);
    expect(p.get('1', 'q')).toBeDefined();
    advance(1);
    expect(p.get('1', 'q')).toBeUndefined();
  });

  it('hands out frozen pages, so one reader cannot change what another one got', () => {
    const { p, keep } = pages();
    keep('1', 'q', page('9'));
    const got = p.get('1', 'q')!;
    expect(() => (got.state!.ids as string[]).push('1')).toThrow(TypeError);
    expect(() => Object.assign(got.state!, { floor: '3' })).toThrow(TypeError);
  });

  it('keeps no cold timeline (nothing to serve from memory)', () => {
    const { p, keep } = pages();
    expect(keep('1', 'q', { state: null, epoch: '0', bodies: null })).toBe(false);
    expect(p.get('1', 'q')).toBeUndefined();
  });

  it('drops a user (all their queries) and refuses the pages of their reads under way', () => {
    const { p, keep } = pages();
    keep('1', 'q', page('9'));
    keep('2', 'q', page('8'));
    const racing = p.begin('1');
    const other = p.begin('2');
    p.drop(['1']);
    expect(p.get('1', 'q')).toBeUndefined();
    expect(p.get('2', 'q')).toBeDefined();
    // The read began before the drop: its answer may predate the change.
    expect(p.store(racing, 'q', page('9'))).toBe(false);
    expect(p.store(other, 'r', page('8'))).toBe(true);
    p.end(racing);
    p.end(other);
    // A read that begins after the drop is kept.
    expect(keep('1', 'q', page('10', '9'))).toBe(true);
  });

  it('lets concurrent reads of one user share a guard, and a drop refuses them all', () => {
    const { p } = pages();
    const a = p.begin('1');
    const b = p.begin('1');
    expect(a).toBe(b);
    p.drop(['1']);
    const c = p.begin('1');
    expect(c).not.toBe(a);
    expect(p.store(a, 'q', page('1'))).toBe(false);
    p.end(a);
    p.end(b);
    expect(p.store(c, 'q', page('2'))).toBe(true);
    p.end(c);
  });

  it('neither serves nor keeps while not usable, and starts empty when usable again', () => {
    const { p, keep } = pages();
    keep('1', 'q', page('9'));
    const racing = p.begin('1');
    p.setUsable(false);
    expect(p.usable).toBe(false);
    expect(p.get('1', 'q')).toBeUndefined();
    expect(keep('1', 'q', page('9'))).toBe(false);
    p.setUsable(true);
    expect(p.get('1', 'q')).toBeUndefined();
    expect(p.store(racing, 'q', page('9'))).toBe(false);
    p.end(racing);
  });

  it('clear refuses every read under way', () => {
    const { p } = pages();
    const g = p.begin('1');
    p.clear();
    expect(p.store(g, 'q', page('1'))).toBe(false);
  });

  it('keeps at most maxUsers users, dropping the one stored longest ago', () => {
    const { p, keep } = pages({ maxUsers: 2 });
    keep('1', 'q', page('1'));
    keep('2', 'q', page('2'));
    keep('3', 'q', page('3'));
    expect(p.size).toBe(2);
    expect(p.get('1', 'q')).toBeUndefined();
    expect(p.get('3', 'q')).toBeDefined();
  });

  it('is off with a zero TTL or size', () => {
    for (const o of [{ ttlMs: 0 }, { maxUsers: 0 }]) {
      const { p, keep } = pages(o);
      expect(p.usable).toBe(false);
      expect(keep('1', 'q', page('1'))).toBe(false);
    }
  });
});
