import type { Queryable } from '../db/database.ts';

/**
 * An author's tweet counter, kept off the tweet's critical path (migration 005, docs/realtime.md
 * "Counters"). A post or delete inserts a delta (+1/-1) in its own transaction; inserts do not wait
 * for each other, so one author's tweets commit concurrently (an `UPDATE users SET tweets_count`
 * there held the author's row lock until commit and serialized them). After the commit
 * `foldTweetCounts` moves the author's deltas into `users.tweets_count` in one statement.
 *
 * Consistency: `TWEETS_COUNT_COLUMN` reads the column plus the deltas not yet folded in one
 * snapshot, and a fold deletes deltas and adds them to the column atomically, so every read is
 * exact: it counts every committed tweet and no uncommitted one. A fold that fails or never runs
 * (a crash right after the commit) leaves the deltas in place; the author's next post or delete
 * folds them.
 */

/** `users.tweets_count` as read everywhere (users aliased `u`): the column plus unfolded deltas. */
export const TWEETS_COUNT_COLUMN =
  '(u.tweets_count + COALESCE((SELECT sum(d.delta) FROM tweet_count_deltas d WHERE d.user_id = u.id), 0))::int AS tweets_count';

/** A tweet count delta as a data-modifying CTE named `counted`; `author` and `delta` are SQL (parameters or literals). */
const deltaCte = (author: string, delta: string): string => `counted AS (INSERT INTO tweet_count_deltas (user_id, delta) VALUES (${author}, ${delta}))`;

/**
 * The delta of a posted tweet as a data-modifying CTE named `counted`, for a statement that inserts
 * the tweet too (one round trip for both); `$author` is the author id's parameter, e.g. `$2`.
 */
export const postedDeltaCte = (author: string): string => deltaCte(author, '1');

/** Records a posted (+1) or deleted (-1) tweet inside its transaction; returns the author's follower count (null: no such user). */
export async function countTweet(tx: Queryable, authorId: string, delta: 1 | -1): Promise<number | null> {
  const [row] = await tx.query<{ followers_count: number }>(`WITH ${deltaCte('$1', '$2')} SELECT followers_count FROM users WHERE id = $1`, [authorId, delta]);
  return row ? row.followers_count : null;
}

/**
 * Folds the author's deltas into `users.tweets_count`, in one statement (its own transaction).
 * Deltas another fold is taking are skipped (SKIP LOCKED), so concurrent folds neither wait for
 * each other's deltas nor count one twice; only the final row update of each waits its turn.
 */
export async function foldTweetCounts(db: Queryable, authorId: string): Promise<void> {
  await db.query(
    `WITH taken AS (
       DELETE FROM tweet_count_deltas WHERE id IN (
         SELECT id FROM tweet_count_deltas WHERE user_id = $1 FOR UPDATE SKIP LOCKED)
       RETURNING delta),
     total AS (SELECT sum(delta)::int AS n FROM taken)
     UPDATE users SET tweets_count = tweets_count + total.n FROM total WHERE users.id = $1 AND total.n IS NOT NULL`,
    [authorId],
  );
}
