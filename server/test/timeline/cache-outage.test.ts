import net from 'node:net';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openPgliteDatabase } from '../../src/db/pglite-database.ts';
import { IdGenerator } from '../../src/ids.ts';
import { FanoutWorker } from '../../src/timeline/fanout-worker.ts';
import { CachedHomeTimeline } from '../../src/timeline/home-timeline.ts';
import { RedisBodyCache } from '../../src/timeline/redis-body-cache.ts';
import { RedisTimelineCache } from '../../src/timeline/redis-timeline-cache.ts';
import { SqlHomeTimeline } from '../../src/timeline/sql-home-timeline.ts';
import { enqueueTimelineJob } from '../../src/timeline/timeline-jobs.ts';
import { TweetBodies } from '../../src/timeline/tweet-bodies.ts';

const silent = pino({ level: 'silent' });

/** A TCP port on which nothing listens. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** docs/timelines.md "Failure behaviour": with Redis unreachable, reads answer from SQL and jobs wait in the outbox. */
describe('timelines while Redis is unreachable', () => {
  let db: Database;
  let down: Redis;
  const ids = new IdGenerator(3);
  const [reader, author] = [ids.next(), ids.next()];
  const tweets = [ids.next(), ids.next()];

  beforeAll(async () => {
    db = await openPgliteDatabase('memory://');
    await migrate(db);
    await db.query(`INSERT INTO users (id, handle, name) VALUES ($1, 'outr', 'Reader'), ($2, 'outa', 'Author')`, [reader, author]);
    await db.query('INSERT INTO follows (follower_id, followee_id, id) VALUES ($1, $2, $1)', [reader, author]);
    for (const t of tweets) await db.query(`INSERT INTO tweets (id, author_id, text) VALUES ($1, $2, 'hello')`, [t, author]);
    down = new Redis({ host: '127.0.0.1', port: await closedPort(), maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    down.on('error', () => {}); // expected: nothing listens
  });
  afterAll(async () => {
    down?.disconnect();
    await db?.close();
  });

  it('answers the home timeline from SQL, counting the cache errors', async () => {
    const errors: string[] = [];
    const sql = new SqlHomeTimeline(db);
    const cached = new CachedHomeTimeline({
      db,
      cache: new RedisTimelineCache(down, 'x:', { capacity: 10, ttlMs: 60_000 }),
      bodies: new TweetBodies({ db, cache: new RedisBodyCache(down, 'x:', { ttlMs: 60_000, guardMs: 1000 }), log: silent, onCacheError: (op) => errors.push(`body ${op}`) }),
      sql,
      log: silent,
      capacity: 10,
      onRead: (path) => errors.push(`read ${path}`),
      onCacheError: () => errors.push('timeline'),
    });
    const page = await cached.home(reader, { limit: 1 });
    expect(page).toEqual(await sql.home(reader, { limit: 1 }));
    expect(page.items.map((t) => t.id)).toEqual([tweets[1]]);
    expect(errors).toEqual(['timeline', 'read sql']);
  });

  it('keeps a fan-out job in the outbox with its error and a later retry time', async () => {
    const job = await db.transaction((tx) => enqueueTimelineJob(tx, ids, { kind: 'post', authorId: author, tweetId: tweets[1]! }));
    const outcomes: string[] = [];
    const worker = new FanoutWorker({
      db,
      cache: new RedisTimelineCache(down, 'x:', { capacity: 10, ttlMs: 60_000 }),
      log: silent,
      options: { batch: 10, pollMs: 1000, capacity: 10, inlineMax: 1000, enabled: true },
      onJob: (kind, outcome) => outcomes.push(`${kind} ${outcome}`),
    });
    await worker.afterCommit([job], 2);
    expect(outcomes).toEqual(['post failed']);
    const [row] = await db.query<{ attempts: number; last_error: string; later: boolean }>(
      'SELECT attempts, last_error, run_after > now() AS later FROM timeline_jobs WHERE id = $1',
      [job],
    );
    expect(row).toMatchObject({ attempts: 1, later: true });
    expect(row!.last_error).not.toBe('');
    // Not due yet: a batch now claims nothing.
    expect(await worker.runBatch()).toBe(0);
  });
});
