import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Queryable } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openPgliteDatabase } from '../../src/db/pglite-database.ts';
import { IdGenerator } from '../../src/ids.ts';
import { FanoutWorker } from '../../src/timeline/fanout-worker.ts';
import { MemoryTimelineCache } from '../../src/timeline/memory-timeline-cache.ts';
import { enqueueTimelineJob } from '../../src/timeline/timeline-jobs.ts';

const silent = pino({ level: 'silent' });

/** The worker applies the posts of one author in a batch together: one add per author for all their live tweets. */
describe('fan-out worker: posts of one author in one batch', () => {
  let db: Database;
  const ids = new IdGenerator(5);
  const [author, other, f1, f2] = [ids.next(), ids.next(), ids.next(), ids.next()];

  beforeAll(async () => {
    db = await openPgliteDatabase('memory://');
    await migrate(db);
    await db.query(`INSERT INTO users (id, handle, name) VALUES ($1, 'fwa', 'A'), ($2, 'fwo', 'O'), ($3, 'fw1', 'F1'), ($4, 'fw2', 'F2')`, [author, other, f1, f2]);
    await db.query('INSERT INTO follows (follower_id, followee_id, id) VALUES ($1, $3, $1), ($2, $3, $2), ($2, $4, $4)', [f1, f2, author, other]);
  });
  afterAll(() => db?.close());

  const warmCache = async () => {
    const cache = new MemoryTimelineCache({ capacity: 50, ttlMs: 60_000, maxUsers: 100 });
    for (const u of [author, other, f1, f2]) await cache.fill(u, await cache.beginRebuild(u), { ids: [], floor: null, large: [], largeEpoch: '0' });
    return cache;
  };
  const post = async (by: string, deleted = false) => {
    const id = ids.next();
    await db.query(`INSERT INTO tweets (id, author_id, text, deleted_at) VALUES ($1, $2, 'x', ${deleted ? 'now()' : 'NULL'})`, [id, by]);
    await db.transaction((tx) => enqueueTimelineJob(tx, ids, { kind: 'post', authorId: by, tweetId: id }));
    return id;
  };

  it('adds all of an author\'s live tweets to their readers in one call, skips deleted ones, and finishes every job', async () => {
    const cache = await warmCache();
    const adds: [string[], string[]][] = [];
    const add = cache.add.bind(cache);
    cache.add = async (users, tweetIds) => {
      adds.push([[...users].sort(), [...tweetIds]]);
      return add(users, tweetIds);
    };
    const outcomes: string[] = [];
    const worker = new FanoutWorker({ db, cache, log: silent, options: { batch: 100, pollMs: 1000, capacity: 50, inlineMax: 0, enabled: false }, onJob: (k, o) => outcomes.push(`${k} ${o}`) });
    const [a1, a2] = [await post(author), await post(author)];
    await post(author, true);
    const o1 = await post(other);
    expect(await worker.runBatch()).toBe(4);
    expect(adds).toEqual([
      [[author, f1, f2].sort(), [a1, a2]],
      [[other, f2].sort(), [o1]],
    ]);
    expect(outcomes).toEqual(Array(4).fill('post done'));
    expect((await cache.read(f2, {}, 10))!.ids).toEqual([o1, a2, a1]);
    expect((await db.query('SELECT id FROM timeline_jobs')).length).toBe(0);
  });

  it('retries every job of an author whose add failed, and only those', async () => {
    const cache = await warmCache();
    const add = cache.add.bind(cache);
    cache.add = async (users, tweetIds) => {
      if (users.includes(f1)) throw new Error('cache down for the author\'s readers');
      return add(users, tweetIds);
    };
    const outcomes: string[] = [];
    const worker = new FanoutWorker({ db, cache, log: silent, options: { batch: 100, pollMs: 1000, capacity: 50, inlineMax: 0, enabled: false }, onJob: (k, o) => outcomes.push(`${k} ${o}`) });
    await post(author);
    await post(author);
    const o1 = await post(other);
    expect(await worker.runBatch()).toBe(3);
    expect(outcomes.sort()).toEqual(['post done', 'post failed', 'post failed']);
    const left = await db.query<{ author_id: string; attempts: number }>('SELECT author_id, attempts FROM timeline_jobs');
    expect(left).toEqual([
      { author_id: author, attempts: 1 },
      { author_id: author, attempts: 1 },
    ]);
    expect((await cache.read(f2, {}, 10))!.ids).toEqual([o1]);
    await db.query('DELETE FROM timeline_jobs');
  });

  it('an SQL error of one author\u2019s group fails only that group (savepoint), with its backoff recorded', async () => {
    const cache = await warmCache();
    // The followers query of `author` fails inside PostgreSQL (PGlite), which aborts the transaction.
    const failing: Database = {
      ...db,
      query: db.query.bind(db),
      transaction: (fn) =>
        db.transaction((tx) =>
          fn({
            query: ((sql: string, params?: unknown[]) =>
              sql.includes('FROM follows WHERE followee_id') && params?.[0] === author ? tx.query('SELECT 1 / 0') : tx.query(sql, params)) as Queryable['query'],
          }),
        ),
    };
    const outcomes: string[] = [];
    const worker = new FanoutWorker({ db: failing, cache, log: silent, options: { batch: 100, pollMs: 1000, capacity: 50, inlineMax: 0, enabled: false }, onJob: (k, o) => outcomes.push(`${k} ${o}`) });
    await post(author);
    const o1 = await post(other);
    expect(await worker.runBatch()).toBe(2);
    expect(outcomes.sort()).toEqual(['post done', 'post failed']);
    const left = await db.query<{ author_id: string; attempts: number; last_error: string }>('SELECT author_id, attempts, last_error FROM timeline_jobs');
    expect(left).toMatchObject([{ author_id: author, attempts: 1 }]);
    expect(left[0]!.last_error).toMatch(/division by zero/);
    expect((await cache.read(f2, {}, 10))!.ids).toEqual([o1]);
    await db.query('DELETE FROM timeline_jobs');
  });
});
