import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SessionCache } from '../../src/auth/session-cache.ts';
import { ClusterBus, LocalBus, type Invalidation } from '../../src/cache/invalidation-bus.ts';
import { LocalCache } from '../../src/cache/local-cache.ts';
import type { Queryable } from '../../src/db/database.ts';
import type { RedisClient } from '../../src/redis/open-redis.ts';

describe('LocalCache', () => {
  const clock = () => {
    let t = 1000;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it('keeps a value for ttlMs from its fill, and at most maxEntries (least recently used go first)', () => {
    const c = clock();
    const cache = new LocalCache<string>({ ttlMs: 100, maxEntries: 2, now: c.now });
    expect(cache.set('a', 'A', cache.ticket())).toBe(true);
    cache.set('b', 'B', cache.ticket());
    expect(cache.get('a')).toBe('A'); // a is now the most recent
    cache.set('c', 'C', cache.ticket());
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual(['A', undefined, 'C']);
    c.advance(100);
    expect(cache.get('a')).toBeUndefined();
  });

  it('evicts an entry not read since it was stored first, else the oldest stored; never the one being stored', () => {
    const cache = new LocalCache<string>({ ttlMs: 1000, maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) cache.set(k, k.toUpperCase(), cache.ticket());
    cache.get('a');
    cache.get('c');
    cache.set('d', 'D', cache.ticket()); // b was never read
    expect(['a', 'b', 'c', 'd'].map((k) => cache.get(k))).toEqual(['A', undefined, 'C', 'D']);
    // Now a, c and d were all read since they were stored (a was moved behind d when b went):
    // each gets its second chance, and the oldest stored of them, c, goes.
    cache.set('e', 'E', cache.ticket());
    expect(cache.size).toBe(3);
    expect(['a', 'c', 'd', 'e'].map((k) => cache.get(k))).toEqual(['A', undefined, 'D', 'E']);
  });

  it('refuses a fill that started before an invalidation', () => {
    const cache = new LocalCache<string>({ ttlMs: 1000, maxEntries: 10 });
    const ticket = cache.ticket();
    cache.delete(['other']);
    expect(cache.set('a', 'old', ticket)).toBe(false);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.set('a', 'new', cache.ticket())).toBe(true);
    cache.deleteWhere((_, v) => v === 'new');
    expect(cache.get('a')).toBeUndefined();
  });

  it('neither answers nor stores while unusable, and is off with ttl 0', () => {
    let usable = true;
    const cache = new LocalCache<string>({ ttlMs: 1000, maxEntries: 10, usable: () => usable });
    cache.set('a', 'A', cache.ticket());
    usable = false;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.set('b', 'B', cache.ticket())).toBe(false);
    const off = new LocalCache<string>({ ttlMs: 0, maxEntries: 10 });
    expect(off.set('a', 'A', off.ticket())).toBe(false);
  });
});

/** A stand-in for the adapter's subscriber connection: only its status and events matter here. */
class FakeSubscriber extends EventEmitter {
  status = 'ready';
}

describe('ClusterBus', () => {
  const channelPair = () => {
    const sent: Invalidation[] = [];
    let deliver: (m: Invalidation) => void = () => {};
    return { sent, channel: { emit: (m: Invalidation) => sent.push(m), on: (h: (m: Invalidation) => void) => (deliver = h) }, deliver: (m: Invalidation) => deliver(m) };
  };

  it('applies a publish here at once and sends it to the others; applies what the others send', () => {
    const sub = new FakeSubscriber();
    const bus = new ClusterBus(sub as unknown as RedisClient);
    const seen: Invalidation[] = [];
    bus.subscribe((m) => seen.push(m));
    expect(bus.connected()).toBe(false); // not attached yet
    const p = channelPair();
    bus.attach(p.channel);
    expect(bus.connected()).toBe(true);
    bus.publish({ kind: 'session', ids: ['1'] });
    expect(p.sent).toEqual([{ kind: 'session', ids: ['1'] }]);
    p.deliver({ kind: 'author', ids: ['2'] });
    p.deliver({ kind: 'bogus', ids: [3] } as unknown as Invalidation);
    expect(seen).toEqual([
      { kind: 'session', ids: ['1'] },
      { kind: 'author', ids: ['2'] },
    ]);
  });

  it('is not connected while the subscriber is down, and reports a gap when it drops and when it is back', () => {
    const sub = new FakeSubscriber();
    const bus = new ClusterBus(sub as unknown as RedisClient);
    bus.attach(channelPair().channel);
    let gaps = 0;
    bus.onGap(() => gaps++);
    sub.status = 'reconnecting';
    sub.emit('close');
    expect(bus.connected()).toBe(false);
    sub.status = 'ready';
    sub.emit('ready');
    expect(bus.connected()).toBe(true);
    expect(gaps).toBe(2);
  });

  it('LocalBus: in-process caches only where this node is certainly alone', () => {
    expect(new LocalBus(true).connected()).toBe(true);
    expect(new LocalBus(false).connected()).toBe(false);
  });
});

describe('SessionCache', () => {
  const db = (live: Set<string>) => {
    let queries = 0;
    const q = {
      query: async (_sql: string, params: unknown[]) => {
        queries++;
        return live.has(String(params[0])) ? [{ '?column?': 1 }] : [];
      },
    } as unknown as Queryable;
    return { q, queries: () => queries };
  };

  it('asks PostgreSQL once per TTL for a live session, forgets ended sessions and deleted users, clears on a gap', async () => {
    const live = new Set(['s1', 's2']);
    const d = db(live);
    const sub = new FakeSubscriber();
    const bus = new ClusterBus(sub as unknown as RedisClient);
    bus.attach({ emit: () => {}, on: () => {} });
    const sessions = new SessionCache(d.q, bus, { ttlMs: 60_000, maxEntries: 10 });
    expect(await sessions.isLive('s1', 'u1')).toBe(true);
    expect(await sessions.isLive('s1', 'u1')).toBe(true);
    expect(d.queries()).toBe(1);
    // Another user's claim on the same session id is checked, not taken from memory.
    expect(await sessions.isLive('s1', 'u9')).toBe(true);
    expect(d.queries()).toBe(2);

    live.delete('s1');
    sessions.ended(['s1']);
    expect(await sessions.isLive('s1', 'u1')).toBe(false);

    expect(await sessions.isLive('s2', 'u2')).toBe(true);
    live.delete('s2');
    sessions.usersDeleted(['u2']);
    expect(await sessions.isLive('s2', 'u2')).toBe(false);

    live.add('s3');
    expect(await sessions.isLive('s3', 'u3')).toBe(true);
    expect(sessions.size).toBe(1);
    sub.emit('close');
    expect(sessions.size).toBe(0);
  });

  it('does not remember a lookup that an invalidation overtook', async () => {
    const live = new Set(['s1']);
    let release: () => void = () => {};
    const slow = {
      query: async () => {
        await new Promise<void>((r) => (release = r));
        return [{ '?column?': 1 }];
      },
    } as unknown as Queryable;
    const sessions = new SessionCache(slow, new LocalBus(true), { ttlMs: 60_000, maxEntries: 10 });
    const pending = sessions.isLive('s1', 'u1');
    await new Promise((r) => setImmediate(r));
    live.delete('s1');
    sessions.ended(['s1']); // the logout commits while the lookup's answer is on its way
    release();
    expect(await pending).toBe(true); // that request started before the logout
    expect(sessions.size).toBe(0); // but the answer is not kept
  });
});
