import type { ReactionKind } from '@flock/client/protocol';
import { notFound } from '../errors.ts';
import type { DomainDeps } from './deps.ts';
import { insertNotifications } from './notifications.ts';
import { AUTHOR_COLUMNS, page, toSummary, type AuthorCols } from './rows.ts';

const COUNTER: Record<ReactionKind, string> = { like: 'like_count', repost: 'repost_count' };

/** One reaction per (tweet, user, kind); PUT and DELETE are idempotent. */
export class ReactionService {
  constructor(private readonly d: DomainDeps) {}

  async add(userId: string, tweetId: string, kind: ReactionKind) {
    const notes = await this.d.db.transaction(async (tx) => {
      const [t] = await tx.query<{ author_id: string }>('SELECT author_id FROM tweets WHERE id = $1 AND deleted_at IS NULL', [tweetId]);
      if (!t) throw notFound('No such tweet');
      const ins = await tx.query(
        'INSERT INTO reactions (tweet_id, user_id, kind, id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING id',
        [tweetId, userId, kind, this.d.ids.next()],
      );
      if (ins.length === 0) return null;
      await tx.query(`UPDATE tweets SET ${COUNTER[kind]} = ${COUNTER[kind]} + 1 WHERE id = $1`, [tweetId]);
      return insertNotifications(tx, this.d.ids, [{ userId: t.author_id, kind, actorId: userId, tweetId }]);
    });
    if (notes) {
      for (const n of notes) this.d.events.emit('notification:created', n);
      // Counts are part of the tweet's cached body.
      await this.d.bodies.changedTweets([tweetId]);
    }
    return this.summary(tweetId, userId);
  }

  async remove(userId: string, tweetId: string, kind: ReactionKind) {
    const changed = await this.d.db.transaction(async (tx) => {
      const t = await tx.query('SELECT 1 FROM tweets WHERE id = $1 AND deleted_at IS NULL', [tweetId]);
      if (t.length === 0) throw notFound('No such tweet');
      const del = await tx.query('DELETE FROM reactions WHERE tweet_id = $1 AND user_id = $2 AND kind = $3 RETURNING id', [tweetId, userId, kind]);
      if (del.length > 0) {
        await tx.query(`UPDATE tweets SET ${COUNTER[kind]} = ${COUNTER[kind]} - 1 WHERE id = $1`, [tweetId]);
        // Taking a reaction back takes its notification back, so toggling does not flood the author.
        await tx.query('DELETE FROM notifications WHERE kind = $1 AND actor_id = $2 AND tweet_id = $3', [kind, userId, tweetId]);
      }
      return del.length > 0;
    });
    if (changed) await this.d.bodies.changedTweets([tweetId]);
    return this.summary(tweetId, userId);
  }

  /** Counts per kind and, for a signed-in viewer, which kinds are theirs. */
  async summary(tweetId: string, viewerId: string | null) {
    const [t] = await this.d.db.query<{ like_count: number; repost_count: number }>(
      'SELECT like_count, repost_count FROM tweets WHERE id = $1 AND deleted_at IS NULL',
      [tweetId],
    );
    if (!t) throw notFound('No such tweet');
    const mine = viewerId
      ? (await this.d.db.query<{ kind: ReactionKind }>('SELECT kind FROM reactions WHERE tweet_id = $1 AND user_id = $2 ORDER BY kind', [tweetId, viewerId])).map(
          (r) => r.kind,
        )
      : [];
    return { tweetId, counts: { like: t.like_count, repost: t.repost_count }, mine };
  }

  async list(tweetId: string, viewerId: string | null, q: { limit: number; cursor?: string; kind?: ReactionKind }) {
    const summary = await this.summary(tweetId, viewerId);
    const rows = await this.d.db.query<AuthorCols & { id: string; kind: ReactionKind; created_at: Date }>(
      `SELECT r.id, r.kind, r.created_at, ${AUTHOR_COLUMNS} FROM reactions r JOIN users a ON a.id = r.user_id
        WHERE r.tweet_id = $1 AND ($2::text IS NULL OR r.kind = $2) AND ($3::bigint IS NULL OR r.id < $3)
        ORDER BY r.id DESC LIMIT $4`,
      [tweetId, q.kind ?? null, q.cursor ?? null, q.limit + 1],
    );
    const p = page(rows, q.limit, (r) => ({ user: toSummary(r), kind: r.kind, createdAt: r.created_at.toISOString() }), (r) => r.id);
    return { ...summary, ...p };
  }
}
