import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createLogger } from '../../src/logger.ts';
import { NearPages } from '../../src/timeline/near-pages.ts';
import { trackTimelinePages, type NearTimelines } from '../../src/timeline/redis-timeline-cache.ts';
import { READER_OPTIONS, SUBSCRIBER_OPTIONS } from '../../src/timeline/redis-tracking.ts';
import { REDIS_URL } from './services.ts';

/**
 * A node's timeline pages in process, wired as the gateway wires them (gateway.ts): a tracked
 * reader connection, the RESP2 subscriber Redis reports changes to, and the pages.
 */
export interface TrackedPages {
  near: NearTimelines;
  pages: NearPages;
  subscriber: Redis;
  /** Connection names (CLIENT LIST), to find and kill them. */
  subscriberName: string;
  readerName: string;
  /** Page reads by result since the start. */
  reads: { hit: number; miss: number };
  /** Resolves once tracking is (again) on and pages are served. */
  ready(): Promise<void>;
  /**
   * Resolves once every invalidation Redis sent before this call has been applied: the PING's
   * reply comes after them on the subscriber connection.
   */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export function trackedPages(prefix: string, opts: { ttlMs?: number; maxUsers?: number } = {}): TrackedPages {
  const tag = randomBytes(4).toString('hex');
  const readerName = `flock-test-reader-${tag}`;
  const subscriberName = `flock-test-invalidations-${tag}`;
  const reader = new Redis(REDIS_URL, { ...READER_OPTIONS, connectionName: readerName, maxRetriesPerRequest: 1, enableAutoPipelining: true, retryStrategy: () => 50 });
  const subscriber = new Redis(REDIS_URL, { ...SUBSCRIBER_OPTIONS, connectionName: subscriberName, maxRetriesPerRequest: null, retryStrategy: () => 50 });
  const pages = new NearPages({ ttlMs: opts.ttlMs ?? 60_000, maxUsers: opts.maxUsers ?? 10_000 });
  const reads = { hit: 0, miss: 0 };
  let waiters: (() => void)[] = [];
  const tracking = trackTimelinePages({
    reader,
    subscriber,
    pages,
    prefix,
    log: createLogger('silent'),
    onReady: (ready) => {
      if (!ready) return;
      for (const w of waiters) w();
      waiters = [];
    },
  });
  return {
    near: { reader, pages, onRead: (hit) => void reads[hit ? 'hit' : 'miss']++ },
    pages,
    subscriber,
    subscriberName,
    readerName,
    reads,
    ready: () => (pages.usable ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve))),
    settle: async () => void (await subscriber.ping()),
    close: async () => {
      tracking.close();
      await Promise.all([reader.quit(), subscriber.quit()]);
    },
  };
}
