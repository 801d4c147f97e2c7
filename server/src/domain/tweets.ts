import { extractMentions, type Tweet } from '@flock/client/protocol';
import type { Queryable } from '../db/database.ts';
import { FlockError, forbidden, notFound } from '../errors.ts';
import type { DomainDeps } from './deps.ts';
import { insertNotifications, type NewNotification } from './notifications.ts';
import { toTweet, TWEET_COLUMNS, type TweetRow } from './rows.ts';
import { countTweet, foldTweetCounts, postedDeltaCte } from './tweet-counts.ts';
import { tweetList } from './tweet-list.ts';
import { userIdByHandle } from './users.ts';
import { enqueueTimelineJob, enqueueTweetPosted } from '../timeline/timeline-jobs.ts';

export interface TimelineQuery {
  limit: number;
  /** Exclusive upper bound: the `next` of the previous page. */
  cursor?: string;
  /** Inclusive upper bound (Twitter's max_id). */
  maxId?: string;
  /** Exclusive lower bound: only tweets newer than this id. */
  sinceId?: string;
}

export async function mentionNotifications(tx: Queryable, text: string, actorId: string, tweetId: string, except: string[] = []) {
  const handles = extractMentions(text).filter((h) => !except.includes(h));
  if (handles.length === 0) return [];
  const users = await tx.query<{ id: string }>('SELECT id FROM users WHERE lower(handle) = ANY($1::text[])', [handles]);
  return users.map((u): NewNotification => ({ userId: u.id, kind: 'mention', actorId, tweetId }));
}

export class TweetService {
  constructor(private readonly d: DomainDeps) {}

  private async row(db: Queryable, id: string): Promise<TweetRow | null> {
    // The tweet first, then its author by primary key. As a plain join, PostgreSQL may pick a merge
    // join that walks the whole users index: it estimates from tweets.author_id's statistics, and
    // an author whose id lies above the last ANALYZE's histogram (any new account) looks cheap to
    // reach. With a million users that took 1.4 s per post (docs/benchmarks.md "timeline").
    const [r] = await db.query<TweetRow>(
      `WITH t AS MATERIALIZED (SELECT * FROM tweets WHERE id = $1 AND deleted_at IS NULL)
       SELECT ${TWEET_COLUMNS} FROM t JOIN users a ON a.id = t.author_id`,
      [id],
    );
    return r ?? null;
  }

  async get(id: string): Promise<Tweet> {
    const r = await this.row(this.d.db, id);
    if (!r) throw notFound('No such tweet');
    return toTweet(r);
  }

  async create(authorId: string, text: string, replyTo: string | null): Promise<Tweet> {
    const rule = this.d.config.RATE_TWEETS_PER_USER;
    const decision = await this.d.limiter.hit(`tweet:${authorId}`, rule);
    if (!decision.allowed) {
      throw new FlockError('FLOCK_ERR_RATE_LIMITED', 'Tweet limit reached; retry later', { limit: rule.limit, windowMs: rule.windowMs }, {
        'retry-after': String(Math.ceil(decision.retryAfterMs / 1000)),
      });
    }
    const id = this.d.ids.next();
    const { tweet, notes, authorFollowers, jobs } = await this.d.db.transaction(async (tx) => {
      if (replyTo) {
        const parent = await tx.query('UPDATE tweets SET reply_count = reply_count + 1 WHERE id = $1 AND deleted_at IS NULL RETURNING id', [replyTo]);
        if (parent.length === 0) throw notFound('The tweet you reply to does not exist');
      }
      // One round trip: the tweet, its counter delta (not an update of the author's row: that row
      // lock would serialize the author's tweets), and the tweet as the API shows it with the
      // author's follower count. Every round trip here also delays the live push (it leaves after
      // the commit), and on a gateway busy writing to sockets each one waits for the event loop.
      // The author is joined by primary key from the one inserted row (see row() on join plans).
      const [r] = await tx.query<TweetRow & { followers_count: number }>(
        `WITH t AS (INSERT INTO tweets (id, author_id, text, reply_to_id) VALUES ($1, $2, $3, $4) RETURNING *), ${postedDeltaCte('$2')}
         SELECT ${TWEET_COLUMNS}, a.followers_count FROM t JOIN users a ON a.id = t.author_id`,
        [id, authorId, text, replyTo],
      );
      if (!r) throw notFound('No such user');
      const authorFollowers = r.followers_count;
      const notes = await insertNotifications(tx, this.d.ids, await mentionNotifications(tx, text, authorId, id));
      // The fan-out commits with the tweet: a crash after this commit cannot lose timeline entries.
      const jobs = await enqueueTweetPosted(tx, this.d.ids, { id, authorId, authorFollowers }, this.d.config.FANOUT_THRESHOLD);
      return { tweet: toTweet(r), notes, authorFollowers, jobs };
    });
    // The author's own timeline first (one Redis call when the fan-out goes to the background),
    // then the live push, then the rest (see TimelineJobRunner).
    const audience = this.audience(authorFollowers);
    await this.d.fanout.addOwn({ userId: authorId, tweetId: id }, audience);
    this.d.events.emit('tweet:created', { tweet, authorFollowers });
    for (const n of notes) this.d.events.emit('notification:created', n);
    if (replyTo) await this.d.bodies.changedTweets([replyTo]);
    await this.d.fanout.afterCommit(jobs, audience);
    await this.foldCount(authorId);
    return tweet;
  }

  async edit(userId: string, id: string, text: string): Promise<Tweet> {
    const { tweet, notes } = await this.d.db.transaction(async (tx) => {
      const [cur] = await tx.query<{ author_id: string; text: string }>(
        'SELECT author_id, text FROM tweets WHERE id = $1 AND deleted_at IS NULL FOR UPDATE',
        [id],
      );
      if (!cur) throw notFound('No such tweet');
      if (cur.author_id !== userId) throw forbidden('Only the author can edit this tweet');
      await tx.query('UPDATE tweets SET text = $2, edited_at = now() WHERE id = $1', [id, text]);
      // Only people newly mentioned by the edit are notified.
      const notes = await insertNotifications(tx, this.d.ids, await mentionNotifications(tx, text, userId, id, extractMentions(cur.text)));
      return { tweet: toTweet((await this.row(tx, id))!), notes };
    });
    // Timelines hold ids and hydrate bodies, so dropping the cached body shows the edit everywhere.
    await this.d.bodies.changedTweets([id]);
    for (const n of notes) this.d.events.emit('notification:created', n);
    return tweet;
  }

  /** Soft delete: the row stays for counters and replies, but the tweet is gone from every read and its notifications are removed. */
  async delete(userId: string, id: string): Promise<void> {
    const { authorFollowers, parent, job } = await this.d.db.transaction(async (tx) => {
      const [cur] = await tx.query<{ author_id: string; reply_to_id: string | null }>(
        'SELECT author_id, reply_to_id FROM tweets WHERE id = $1 AND deleted_at IS NULL FOR UPDATE',
        [id],
      );
      if (!cur) throw notFound('No such tweet');
      if (cur.author_id !== userId) throw forbidden('Only the author can delete this tweet');
      await tx.query('UPDATE tweets SET deleted_at = now() WHERE id = $1', [id]);
      const authorFollowers = (await countTweet(tx, userId, -1)) ?? 0;
      if (cur.reply_to_id) await tx.query('UPDATE tweets SET reply_count = reply_count - 1 WHERE id = $1', [cur.reply_to_id]);
      await tx.query('DELETE FROM notifications WHERE tweet_id = $1', [id]);
      const job = await enqueueTimelineJob(tx, this.d.ids, { kind: 'delete', authorId: userId, tweetId: id });
      return { authorFollowers, parent: cur.reply_to_id, job };
    });
    this.d.events.emit('tweet:deleted', { id, authorId: userId, authorFollowers });
    await this.d.bodies.changedTweets(parent ? [id, parent] : [id]);
    await this.d.fanout.afterCommit([job], this.audience(authorFollowers));
    await this.foldCount(userId);
  }

  /** After a commit: the author's counter deltas into users.tweets_count. A failure only delays the fold (reads stay exact), so it is logged, not thrown. */
  private async foldCount(authorId: string): Promise<void> {
    try {
      await foldTweetCounts(this.d.db, authorId);
    } catch (err) {
      this.d.log.warn({ err: (err as Error).message, authorId }, 'tweet count fold failed; the next one retries');
    }
  }

  /** Timelines a fan-out of this author writes: their own, plus their followers' unless they are merged at read time. */
  private audience(followers: number): number {
    return followers >= this.d.config.FANOUT_THRESHOLD ? 1 : followers + 1;
  }

  async listByAuthor(handle: string, q: TimelineQuery) {
    const authorId = await userIdByHandle(this.d.db, handle);
    return tweetList(this.d.db, 't.author_id = $1', authorId, q);
  }

  /** Home timeline: the caller's own tweets and those of everyone they follow, newest first (docs/timelines.md). */
  async home(userId: string, q: TimelineQuery) {
    return this.d.home.home(userId, q);
  }

  /** The same page as JSON text (what GET /v1/timeline/home sends). */
  async homeJson(userId: string, q: TimelineQuery): Promise<string> {
    return this.d.home.homeJson(userId, q);
  }
}

