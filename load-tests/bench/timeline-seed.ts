import pg from 'pg';
import { idAtTime } from '../../server/src/ids.ts';
import type { FlockApi, Session } from './api.ts';
import { fillerText, mapConcurrent } from './seed.ts';

/**
 * Data of the timeline benchmark. The accounts that post or read go through the API (they need
 * tokens); the bulk (1,000 followed authors and their tweets, the 1,000,000 followers) is generated
 * in PostgreSQL with generate_series, which takes seconds where the API would take hours.
 */

export interface TimelinePlan {
  /** Authors the reader follows. @default 1000 */
  followedAuthors: number;
  /** Tweets of each followed author. @default 10 */
  tweetsPerAuthor: number;
  /** Followers of the small author (registered, timelines warm). @default 100 */
  smallFollowers: number;
  /** Followers of the large author (rows generated in SQL). @default 1_000_000 */
  largeFollowers: number;
}

export interface TimelineSeed {
  reader: Session;
  small: Session;
  large: Session;
  /** The small author's followers, whose timelines the fan-out writes. */
  followers: Session[];
}

const PASSWORD = 'bench-password-1';

export async function seedTimeline(api: FlockApi, databaseUrl: string, plan: TimelinePlan, progress: (line: string) => void): Promise<TimelineSeed> {
  const reader = await api.register('reader', PASSWORD);
  const small = await api.register('smallauthor', PASSWORD);
  const large = await api.register('largeauthor', PASSWORD);
  const followers = await mapConcurrent(
    Array.from({ length: plan.smallFollowers }, (_, i) => `fan${String(i).padStart(4, '0')}`),
    8,
    (h) => api.register(h, PASSWORD),
  );
  await mapConcurrent(followers, 8, (f) => api.follow(f, small.handle));

  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    // Generated ids from a day ago: time-ordered like real ones and below every id the gateway makes now.
    const base = BigInt(idAtTime(Date.now() - 86_400_000));
    const started = Date.now();
    await db.query(
      `INSERT INTO users (id, handle, email, name)
         SELECT $1::bigint + n, 'au' || n, 'au' || n || '@bench.flock.test', 'Author ' || n FROM generate_series(1, $2) AS n`,
      [base.toString(), plan.followedAuthors],
    );
    await db.query(
      `INSERT INTO follows (follower_id, followee_id, id) SELECT $1, $2::bigint + n, $2::bigint + n FROM generate_series(1, $3) AS n`,
      [reader.userId, base.toString(), plan.followedAuthors],
    );
    // Authors post in turns, so each author's tweets spread over the id range.
    const texts = Array.from({ length: 64 }, (_, i) => fillerText(i));
    await db.query(
      `INSERT INTO tweets (id, author_id, text, created_at)
         SELECT $1::bigint + (r * $3 + a) * 4096, $2::bigint + a, ($4::text[])[1 + (r * $3 + a) % 64], now() - interval '1 day'
           FROM generate_series(0, $5 - 1) AS r, generate_series(1, $3) AS a`,
      [(base + 10_000_000n).toString(), base.toString(), plan.followedAuthors, texts, plan.tweetsPerAuthor],
    );
    await db.query('UPDATE users SET following_count = $2 WHERE id = $1', [reader.userId, plan.followedAuthors]);
    await db.query('UPDATE users SET followers_count = 1, tweets_count = $2 WHERE id BETWEEN $1::bigint + 1 AND $1::bigint + $3', [
      base.toString(),
      plan.tweetsPerAuthor,
      plan.followedAuthors,
    ]);
    progress(`  generated ${plan.followedAuthors} followed authors and ${plan.followedAuthors * plan.tweetsPerAuthor} tweets in ${Date.now() - started} ms`);

    const t = Date.now();
    const fanBase = base + 100_000_000n;
    await db.query(
      `INSERT INTO users (id, handle, email, name)
         SELECT $1::bigint + n, 'lf' || n, 'lf' || n || '@bench.flock.test', '' FROM generate_series(1, $2) AS n`,
      [fanBase.toString(), plan.largeFollowers],
    );
    await db.query(
      `INSERT INTO follows (follower_id, followee_id, id) SELECT $1::bigint + n, $2, $1::bigint + n FROM generate_series(1, $3) AS n`,
      [fanBase.toString(), large.userId, plan.largeFollowers],
    );
    await db.query('UPDATE users SET followers_count = $2 WHERE id = $1', [large.userId, plan.largeFollowers]);
    // Settle the bulk load before measuring: statistics, visibility map, and the WAL written by a
    // million rows (otherwise autovacuum and a checkpoint land in the middle of a measurement).
    await db.query('VACUUM ANALYZE');
    await db.query('CHECKPOINT').catch(() => progress('  (CHECKPOINT needs a superuser; skipped)'));
    progress(`  generated ${plan.largeFollowers.toLocaleString('en-US')} followers of the large author in ${Date.now() - t} ms`);
  } finally {
    await db.end();
  }
  // Warm the timelines the small author's fan-out writes, as those of active readers are.
  await mapConcurrent(followers, 8, (f) => api.homeTimeline(f, 20));
  return { reader, small, large, followers };
}
