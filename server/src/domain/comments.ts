import { extractMentions, type Comment } from '@flock/client/protocol';
import type { Queryable } from '../db/database.ts';
import { forbidden, notFound } from '../errors.ts';
import type { DomainDeps } from './deps.ts';
import { insertNotifications } from './notifications.ts';
import { AUTHOR_COLUMNS, page, toComment, type CommentRow } from './rows.ts';
import { mentionNotifications } from './tweets.ts';

const COMMENT_COLUMNS = `c.id, c.tweet_id, c.text, c.created_at, c.edited_at, ${AUTHOR_COLUMNS}`;

/** Comments on tweets: listed oldest first (conversation order). A deleted tweet's comments are gone with it. */
export class CommentService {
  constructor(private readonly d: DomainDeps) {}

  private async row(db: Queryable, id: string): Promise<CommentRow | null> {
    const [r] = await db.query<CommentRow>(
      `SELECT ${COMMENT_COLUMNS} FROM comments c JOIN users a ON a.id = c.author_id
         JOIN tweets t ON t.id = c.tweet_id AND t.deleted_at IS NULL WHERE c.id = $1`,
      [id],
    );
    return r ?? null;
  }

  async create(authorId: string, tweetId: string, text: string): Promise<Comment> {
    const id = this.d.ids.next();
    const { comment, notes } = await this.d.db.transaction(async (tx) => {
      const [t] = await tx.query<{ author_id: string }>(
        'UPDATE tweets SET comment_count = comment_count + 1 WHERE id = $1 AND deleted_at IS NULL RETURNING author_id',
        [tweetId],
      );
      if (!t) throw notFound('No such tweet');
      await tx.query('INSERT INTO comments (id, tweet_id, author_id, text) VALUES ($1, $2, $3, $4)', [id, tweetId, authorId, text]);
      const mentions = (await mentionNotifications(tx, text, authorId, tweetId)).filter((m) => m.userId !== t.author_id);
      const notes = await insertNotifications(tx, this.d.ids, [{ userId: t.author_id, kind: 'comment', actorId: authorId, tweetId }, ...mentions]);
      return { comment: toComment((await this.row(tx, id))!), notes };
    });
    for (const n of notes) this.d.events.emit('notification:created', n);
    await this.d.bodies.changedTweets([tweetId]);
    return comment;
  }

  async list(tweetId: string, q: { limit: number; cursor?: string }) {
    const t = await this.d.db.query('SELECT 1 FROM tweets WHERE id = $1 AND deleted_at IS NULL', [tweetId]);
    if (t.length === 0) throw notFound('No such tweet');
    const rows = await this.d.db.query<CommentRow>(
      `SELECT ${COMMENT_COLUMNS} FROM comments c JOIN users a ON a.id = c.author_id
        WHERE c.tweet_id = $1 AND ($2::bigint IS NULL OR c.id > $2) ORDER BY c.id ASC LIMIT $3`,
      [tweetId, q.cursor ?? null, q.limit + 1],
    );
    return page(rows, q.limit, toComment, (r) => r.id);
  }

  private async owned(tx: Queryable, userId: string, id: string): Promise<CommentRow> {
    const r = await this.row(tx, id);
    if (!r) throw notFound('No such comment');
    if (r.a_id !== userId) throw forbidden('Only the author can change this comment');
    return r;
  }

  async edit(userId: string, id: string, text: string): Promise<Comment> {
    const { comment, notes } = await this.d.db.transaction(async (tx) => {
      const cur = await this.owned(tx, userId, id);
      await tx.query('UPDATE comments SET text = $2, edited_at = now() WHERE id = $1', [id, text]);
      const mentions = await mentionNotifications(tx, text, userId, cur.tweet_id, extractMentions(cur.text));
      return { comment: toComment((await this.row(tx, id))!), notes: await insertNotifications(tx, this.d.ids, mentions) };
    });
    for (const n of notes) this.d.events.emit('notification:created', n);
    return comment;
  }

  async delete(userId: string, id: string): Promise<void> {
    const tweetId = await this.d.db.transaction(async (tx) => {
      const r = await this.owned(tx, userId, id);
      await tx.query('DELETE FROM comments WHERE id = $1', [id]);
      await tx.query('UPDATE tweets SET comment_count = comment_count - 1 WHERE id = $1', [r.tweet_id]);
      return r.tweet_id;
    });
    await this.d.bodies.changedTweets([tweetId]);
  }
}
