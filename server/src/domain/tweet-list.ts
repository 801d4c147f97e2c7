import type { Queryable } from '../db/database.ts';
import { page, toTweet, TWEET_COLUMNS, type TweetRow } from './rows.ts';
import type { TimelineQuery } from './tweets.ts';

/** The home timeline's authors in SQL: the user ($1) and everyone they follow. */
export const HOME_WHERE = '(t.author_id = $1 OR t.author_id IN (SELECT followee_id FROM follows WHERE follower_id = $1))';

/** A page of live tweets matching `where` (with the user id as $1), newest first, with cursor, max_id and since_id. */
export async function tweetList(db: Queryable, where: string, userId: string, q: TimelineQuery) {
  const rows = await db.query<TweetRow>(
    `SELECT ${TWEET_COLUMNS} FROM tweets t JOIN users a ON a.id = t.author_id
      WHERE ${where} AND t.deleted_at IS NULL
        AND ($2::bigint IS NULL OR t.id < $2) AND ($3::bigint IS NULL OR t.id <= $3) AND ($4::bigint IS NULL OR t.id > $4)
      ORDER BY t.id DESC LIMIT $5`,
    [userId, q.cursor ?? null, q.maxId ?? null, q.sinceId ?? null, q.limit + 1],
  );
  return page(rows, q.limit, toTweet, (r) => r.id);
}
