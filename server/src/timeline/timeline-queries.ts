import type { Queryable } from '../db/database.ts';

/**
 * The SQL a timeline is computed from: the plain-SQL home timeline (the source of truth the
 * cache must equal) and the pieces the cache rebuilds and merges from.
 */

export interface TimelineBounds {
  /** Inclusive upper bound. */
  upTo?: string;
  /** Exclusive lower bound. */
  after?: string;
}

/** Ids of the user's home timeline (own tweets and followees'), newest first. */
export async function homeIds(db: Queryable, userId: string, limit: number): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `SELECT t.id FROM tweets t
      WHERE (t.author_id = $1 OR t.author_id IN (SELECT followee_id FROM follows WHERE follower_id = $1)) AND t.deleted_at IS NULL
      ORDER BY t.id DESC LIMIT $2`,
    [userId, limit],
  );
  return rows.map((r) => r.id);
}

/** The followees of a user whose tweets are merged at read time. */
export async function largeFollowees(db: Queryable, userId: string): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `SELECT f.followee_id AS id FROM follows f JOIN timeline_large_authors l ON l.author_id = f.followee_id
      WHERE f.follower_id = $1 ORDER BY f.followee_id`,
    [userId],
  );
  return rows.map((r) => r.id);
}

/** Live tweet ids of some authors within bounds, newest first. */
export async function authorsTweetIds(db: Queryable, authorIds: readonly string[], bounds: TimelineBounds, limit: number): Promise<string[]> {
  if (authorIds.length === 0) return [];
  const rows = await db.query<{ id: string }>(
    `SELECT id FROM tweets
      WHERE author_id = ANY($1::bigint[]) AND deleted_at IS NULL
        AND ($2::bigint IS NULL OR id <= $2) AND ($3::bigint IS NULL OR id > $3)
      ORDER BY id DESC LIMIT $4`,
    [authorIds, bounds.upTo ?? null, bounds.after ?? null, limit],
  );
  return rows.map((r) => r.id);
}
