import type { Notification, NotificationKind } from '@flock/client/protocol';
import type { Queryable } from '../db/database.ts';
import type { IdGenerator } from '../ids.ts';
import { AUTHOR_COLUMNS, page, toNotification, type NotificationRow } from './rows.ts';

export interface NewNotification {
  userId: string;
  kind: NotificationKind;
  actorId: string;
  tweetId?: string | null;
  streamId?: string | null;
}

/** Writes notifications inside the caller's transaction; returns what to push after commit. Never notifies you of yourself. */
export async function insertNotifications(
  tx: Queryable,
  ids: IdGenerator,
  list: NewNotification[],
): Promise<{ userId: string; notification: Notification }[]> {
  const out: { userId: string; notification: Notification }[] = [];
  for (const n of list) {
    if (n.userId === n.actorId) continue;
    const id = ids.next();
    const [row] = await tx.query<NotificationRow>(
      `WITH ins AS (
         INSERT INTO notifications (id, user_id, kind, actor_id, tweet_id, stream_id) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, kind, actor_id, tweet_id, stream_id, created_at, read_at)
       SELECT ins.*, ${AUTHOR_COLUMNS} FROM ins JOIN users a ON a.id = ins.actor_id`,
      [id, n.userId, n.kind, n.actorId, n.tweetId ?? null, n.streamId ?? null],
    );
    if (row) out.push({ userId: n.userId, notification: toNotification(row) });
  }
  return out;
}

/**
 * Newest first, paging to older ones with `cursor`; or, with `after`, only
 * those newer than that id, oldest first (for catching up), paging forward.
 */
export async function listNotifications(
  db: Queryable,
  userId: string,
  q: { limit: number; cursor?: string; after?: string; unreadOnly?: boolean },
) {
  const forward = q.after !== undefined;
  const rows = await db.query<NotificationRow>(
    `SELECT n.id, n.kind, n.tweet_id, n.stream_id, n.created_at, n.read_at, ${AUTHOR_COLUMNS}
       FROM notifications n JOIN users a ON a.id = n.actor_id
      WHERE n.user_id = $1
        AND ($2::bigint IS NULL OR ${forward ? 'n.id > $2' : 'n.id < $2'})
        AND (NOT $3::boolean OR n.read_at IS NULL)
      ORDER BY n.id ${forward ? 'ASC' : 'DESC'} LIMIT $4`,
    [userId, forward ? (q.cursor ?? q.after) : (q.cursor ?? null), q.unreadOnly ?? false, q.limit + 1],
  );
  return page(rows, q.limit, toNotification, (r) => r.id);
}

export async function unreadCount(db: Queryable, userId: string): Promise<number> {
  const [row] = await db.query<{ n: string }>('SELECT count(*) AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL', [userId]);
  return Number(row?.n ?? 0);
}

export async function markRead(db: Queryable, userId: string, upTo: string): Promise<number> {
  const rows = await db.query('UPDATE notifications SET read_at = now() WHERE user_id = $1 AND id <= $2 AND read_at IS NULL RETURNING id', [
    userId,
    upTo,
  ]);
  return rows.length;
}
