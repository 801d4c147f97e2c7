import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openPostgresDatabase } from '../../src/db/postgres-database.ts';
import { createLogger } from '../../src/logger.ts';
import { RedisBodyCache } from '../../src/timeline/redis-body-cache.ts';
import { RedisTimelineCache } from '../../src/timeline/redis-timeline-cache.ts';
import { TWEET_KEY_PREFIX } from '../../src/timeline/tweet-bodies.ts';
import { deleteKeys, runPrefix } from '../support/redis-keys.ts';
import { REDIS_URL, assertService, createTestDatabase, postgresAvailable, redisAvailable } from '../support/services.ts';
import { trackedPages } from '../support/near-timelines.ts';
import { checkHomeTimelineProperty } from './home-timeline.property.ts';

const [pgUp, redisUp] = await Promise.all([postgresAvailable(), redisAvailable()]);
const PREFIX = runPrefix();

describe('home timeline on the Redis caches and PostgreSQL (scaled out)', () => {
  let db: Database;
  let redis: Redis;
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    assertService('postgres', pgUp);
    assertService('redis', redisUp);
    const created = await createTestDatabase();
    drop = created.drop;
    db = await openPostgresDatabase(created.url, 8, createLogger('silent'));
    await migrate(db);
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
    if (redis) {
      await deleteKeys(redis, PREFIX);
      await redis.quit();
    }
  });

  it('equals the SQL timeline for random graphs and interleavings', async () => {
    await checkHomeTimelineProperty(
      {
        db,
        // Page reads prefetch the bodies, as the gateway's do on standalone Redis.
        timelineCache: new RedisTimelineCache(redis, PREFIX, { capacity: 25, ttlMs: 600_000, bodyKeyPrefix: RedisBodyCache.keyOf(PREFIX, TWEET_KEY_PREFIX) }),
        bodyCache: new RedisBodyCache(redis, PREFIX, { ttlMs: 600_000, guardMs: 10_000 }),
      },
      { users: 150, numRuns: 2 },
    );
  }, 180_000);

  it('equals the SQL timeline with tweet bodies and author summaries kept in process too', async () => {
    await checkHomeTimelineProperty(
      {
        db,
        timelineCache: new RedisTimelineCache(redis, PREFIX, { capacity: 25, ttlMs: 600_000, bodyKeyPrefix: RedisBodyCache.keyOf(PREFIX, TWEET_KEY_PREFIX) }),
        bodyCache: new RedisBodyCache(redis, PREFIX, { ttlMs: 600_000, guardMs: 10_000 }),
        inProcess: true,
      },
      { users: 150, numRuns: 2 },
    );
  }, 180_000);

  it('equals the SQL timeline when the reads go through another node that keeps timeline pages in process', async () => {
    const readNode = trackedPages(PREFIX);
    try {
      await readNode.ready();
      const opts = { capacity: 25, ttlMs: 600_000, bodyKeyPrefix: RedisBodyCache.keyOf(PREFIX, TWEET_KEY_PREFIX) };
      await checkHomeTimelineProperty(
        {
          db,
          timelineCache: new RedisTimelineCache(redis, PREFIX, opts),
          readCache: new RedisTimelineCache(redis, PREFIX, opts, readNode.near),
          settle: readNode.settle,
          bodyCache: new RedisBodyCache(redis, PREFIX, { ttlMs: 600_000, guardMs: 10_000 }),
          inProcess: true,
        },
        { users: 150, numRuns: 2 },
      );
      // The reads did come from memory (the property holds with pages kept).
      expect(readNode.reads.hit).toBeGreaterThan(0);
    } finally {
      await readNode.close();
    }
  }, 180_000);
});
