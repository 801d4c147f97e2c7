import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openPgliteDatabase } from '../../src/db/pglite-database.ts';
import { toTweet, TWEET_COLUMNS, type TweetRow } from '../../src/domain/rows.ts';
import { MemoryBodyCache } from '../../src/timeline/memory-body-cache.ts';
import { TweetBodies } from '../../src/timeline/tweet-bodies.ts';

/** The JSON the home timeline route sends is built from cached JSON; it must be what serializing the SQL path's tweets gives. */
describe('TweetBodies.hydrateJson', () => {
  let db: Database;
  const ids = ['9001', '9002', '9003'];

  beforeAll(async () => {
    db = await openPgliteDatabase('memory://');
    await migrate(db);
    await db.query(`INSERT INTO users (id, handle, email, name) VALUES (501, 'ann', 'ann@x.test', 'Ann "the" Author'), (502, 'bob', 'bob@x.test', 'Bob')`);
    await db.query(
      `INSERT INTO tweets (id, author_id, text, like_count) VALUES (9001, 501, 'line one
line two "quoted" \\ é 🐦', 3), (9002, 502, 'plain', 0), (9003, 501, 'gone', 0)`,
    );
    await db.query('UPDATE tweets SET deleted_at = now() WHERE id = 9003');
  });
  afterAll(async () => {
    await db?.close();
  });

  const make = () => {
    const cache = new MemoryBodyCache({ ttlMs: 60_000, guardMs: 10_000, maxEntries: 100 });
    return { cache, bodies: new TweetBodies({ db, cache, log: pino({ level: 'silent' }), onCacheError: () => {} }) };
  };
  // The SQL path's tweets (toTweet), serialized.
  const expected = async () => {
    const rows = await db.query<TweetRow>(
      `SELECT ${TWEET_COLUMNS} FROM tweets t JOIN users a ON a.id = t.author_id WHERE t.id = ANY($1::bigint[]) AND t.deleted_at IS NULL`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, JSON.stringify(toTweet(r))]));
  };

  it('equals JSON.stringify of the hydrated tweets, cold and then from the cache; deleted tweets are left out', async () => {
    const { bodies } = make();
    const cold = await bodies.hydrateJson(ids);
    expect([...cold.keys()].sort()).toEqual(['9001', '9002']);
    expect(cold).toEqual(await expected());
    expect(await bodies.hydrateJson(ids)).toEqual(cold);
    // The objects the socket's sync sends are the same tweets.
    expect(new Map([...(await bodies.hydrate(ids))].map(([id, t]) => [id, JSON.stringify(t)]))).toEqual(cold);
  });

  it('re-reads a cached body in another key order, and treats one that is not a tweet body as not cached', async () => {
    const { cache, bodies } = make();
    const want = await expected();
    await bodies.hydrateJson(ids); // fills the cache
    const reordered = JSON.parse((await cache.getMany(['tw:9001'])).get('tw:9001')!) as Record<string, unknown>;
    const { id, authorId, ...rest } = reordered;
    const fresh = make();
    await fresh.cache.fill([
      ['tw:9001', JSON.stringify({ ...rest, authorId, id })],
      ['tw:9002', '{"not":"a body"}'],
    ]);
    expect(await fresh.bodies.hydrateJson(ids)).toEqual(want);
  });

  it('takes prefetched bodies without reading the cache, and loads those prefetched as not cached', async () => {
    const want = await expected();
    const { cache: empty, bodies: other } = make();
    const seen: string[][] = [];
    const getMany = empty.getMany.bind(empty);
    empty.getMany = (keys) => (seen.push([...keys]), getMany(keys));
    const prefetched = new Map<string, string | null>([
      // The body as cached: the tweet's JSON with authorId where the author's summary is.
      ['9001', want.get('9001')!.replace(/"author":\{[^}]*\},/, '"authorId":"501",')],
      ['9002', null],
    ]);
    expect(await other.hydrateJson(ids, prefetched)).toEqual(want);
    // Only the id that was not prefetched is read from the body cache (authors are read there too).
    expect(seen.flat().filter((k) => k.startsWith('tw:'))).toEqual(['tw:9003']);
  });
});
