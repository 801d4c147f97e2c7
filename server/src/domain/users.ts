import type { Me, UpdateMeRequest, User } from '@flock/client/protocol';
import { uniqueViolation, type Queryable } from '../db/database.ts';
import { FlockError, notFound } from '../errors.ts';
import type { DomainDeps } from './deps.ts';
import { page, toMe, toUser, USER_COLUMNS, type UserRow } from './rows.ts';

/** A `PATCH /v1/users/me` body, as the protocol module defines it. */
export type ProfilePatch = UpdateMeRequest;

const PATCH_COLUMNS: Record<keyof ProfilePatch, string> = {
  handle: 'handle',
  email: 'email',
  name: 'name',
  bio: 'bio',
  avatarUrl: 'avatar_url',
  bannerUrl: 'banner_url',
  website: 'website',
  location: 'location',
  birthDate: 'birth_date',
};

/** Maps a unique violation on users to the right 409, or rethrows. */
export function conflictFromUnique(err: unknown): never {
  const c = uniqueViolation(err);
  if (c !== null) {
    if (c.includes('email')) throw new FlockError('FLOCK_ERR_EMAIL_TAKEN');
    if (c.includes('handle')) throw new FlockError('FLOCK_ERR_HANDLE_TAKEN');
  }
  throw err;
}

export async function findUserRow(db: Queryable, by: { id: string } | { handle: string }): Promise<UserRow | null> {
  const [row] =
    'id' in by
      ? await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users u WHERE u.id = $1`, [by.id])
      : await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users u WHERE lower(u.handle) = lower($1)`, [by.handle]);
  return row ?? null;
}

export async function userIdByHandle(db: Queryable, handle: string): Promise<string> {
  const [row] = await db.query<{ id: string }>('SELECT id FROM users WHERE lower(handle) = lower($1)', [handle]);
  if (!row) throw notFound(`No user @${handle}`);
  return row.id;
}

export class UserService {
  constructor(private readonly d: DomainDeps) {}

  async getByHandle(handle: string, viewerId: string | null): Promise<User> {
    const row = await findUserRow(this.d.db, { handle });
    if (!row) throw notFound(`No user @${handle}`);
    const user = toUser(row);
    if (viewerId && viewerId !== row.id) {
      const f = await this.d.db.query('SELECT 1 FROM follows WHERE follower_id = $1 AND followee_id = $2', [viewerId, row.id]);
      user.isFollowing = f.length > 0;
    }
    return user;
  }

  async me(userId: string): Promise<Me> {
    const row = await findUserRow(this.d.db, { id: userId });
    if (!row) throw new FlockError('FLOCK_ERR_UNAUTHORIZED', 'This account no longer exists');
    return toMe(row);
  }

  async update(userId: string, patch: ProfilePatch): Promise<Me> {
    const sets: string[] = [];
    const values: unknown[] = [userId];
    for (const [k, v] of Object.entries(patch) as [keyof ProfilePatch, unknown][]) {
      if (v === undefined) continue;
      values.push(v);
      sets.push(`${PATCH_COLUMNS[k]} = $${values.length}`);
    }
    if (sets.length > 0) {
      try {
        await this.d.db.query(`UPDATE users SET ${sets.join(', ')} WHERE id = $1`, values);
      } catch (err) {
        conflictFromUnique(err);
      }
      // Tweets carry their author's summary (handle, name, avatar).
      await this.d.bodies.changedAuthors([userId]);
    }
    return this.me(userId);
  }

  /** Deletes the account and everything it owns; other users' counters are corrected in the same transaction. */
  async delete(userId: string): Promise<void> {
    const touched = await this.d.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE users SET followers_count = followers_count - 1 WHERE id IN (SELECT followee_id FROM follows WHERE follower_id = $1)`,
        [userId],
      );
      await tx.query(
        `UPDATE users SET following_count = following_count - 1 WHERE id IN (SELECT follower_id FROM follows WHERE followee_id = $1)`,
        [userId],
      );
      const counted = await tx.query<{ id: string }>(
        `UPDATE tweets t SET like_count = t.like_count - r.likes, repost_count = t.repost_count - r.reposts
           FROM (SELECT tweet_id, count(*) FILTER (WHERE kind = 'like') AS likes, count(*) FILTER (WHERE kind = 'repost') AS reposts
                   FROM reactions WHERE user_id = $1 GROUP BY tweet_id) r
          WHERE t.id = r.tweet_id AND t.author_id <> $1 RETURNING t.id`,
        [userId],
      );
      const commented = await tx.query<{ id: string }>(
        `UPDATE tweets t SET comment_count = t.comment_count - c.n
           FROM (SELECT tweet_id, count(*) AS n FROM comments WHERE author_id = $1 GROUP BY tweet_id) c
          WHERE t.id = c.tweet_id AND t.author_id <> $1 RETURNING t.id`,
        [userId],
      );
      const replied = await tx.query<{ id: string }>(
        `UPDATE tweets t SET reply_count = t.reply_count - r.n
           FROM (SELECT reply_to_id, count(*) AS n FROM tweets WHERE author_id = $1 AND reply_to_id IS NOT NULL AND deleted_at IS NULL
                  GROUP BY reply_to_id) r
          WHERE t.id = r.reply_to_id AND t.author_id <> $1 RETURNING t.id`,
        [userId],
      );
      await tx.query('DELETE FROM users WHERE id = $1', [userId]);
      return [...counted, ...commented, ...replied].map((r) => r.id);
    });
    this.d.events.emit('user:deleted', { userId });
    // Other people's tweets whose counters changed, and the author summary of the deleted user's own.
    await this.d.bodies.changedTweets([...new Set(touched)]);
    await this.d.bodies.changedAuthors([userId]);
  }

  /** Followers (who follow `handle`) or following (whom `handle` follows), newest follow first. */
  async listFollows(handle: string, which: 'followers' | 'following', q: { limit: number; cursor?: string }) {
    const userId = await userIdByHandle(this.d.db, handle);
    const [mine, other] = which === 'followers' ? ['followee_id', 'follower_id'] : ['follower_id', 'followee_id'];
    const rows = await this.d.db.query<UserRow & { follow_id: string }>(
      `SELECT ${USER_COLUMNS}, f.id AS follow_id FROM follows f JOIN users u ON u.id = f.${other}
        WHERE f.${mine} = $1 AND ($2::bigint IS NULL OR f.id < $2) ORDER BY f.id DESC LIMIT $3`,
      [userId, q.cursor ?? null, q.limit + 1],
    );
    return page(rows, q.limit, toUser, (r) => r.follow_id);
  }
}
