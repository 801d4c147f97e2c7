import type { Queryable } from '../db/database.ts';
import type { IdGenerator } from '../ids.ts';

/**
 * The fan-out outbox (table timeline_jobs, migration 002). Writers call these inside the
 * transaction of the change itself, so the change and its job commit together or not at all;
 * the FanoutWorker applies them to the timeline cache afterwards.
 */
export type TimelineJob =
  | { kind: 'post' | 'delete'; authorId: string; tweetId: string }
  | { kind: 'follow' | 'unfollow'; authorId: string; followerId: string }
  | { kind: 'large'; authorId: string };

/** Inserts a job; resolves to its id (for `TimelineJobRunner.afterCommit`). */
export async function enqueueTimelineJob(tx: Queryable, ids: IdGenerator, job: TimelineJob): Promise<string> {
  const id = ids.next();
  await tx.query('INSERT INTO timeline_jobs (id, kind, author_id, tweet_id, follower_id) VALUES ($1, $2, $3, $4, $5)', [
    id,
    job.kind,
    job.authorId,
    'tweetId' in job ? job.tweetId : null,
    'followerId' in job ? job.followerId : null,
  ]);
  return id;
}

/**
 * Applies jobs right after their commit. `audience` is how many timelines they touch: small
 * jobs (TIMELINE_FANOUT_INLINE_MAX) run in the request, big ones in the background. Never throws:
 * a job that fails here stays in the outbox and is retried by the worker.
 */
export interface TimelineJobRunner {
  afterCommit(jobIds: readonly string[], audience: number): Promise<void>;
  /**
   * A new tweet whose author must read it at once, right after its commit and before anyone hears
   * of it (the live push): when its jobs will go to the background, adds it to the author's own
   * timeline now. The job adds it again (adds are idempotent; a crash in between loses nothing,
   * the job being committed). Before the push, so a delete of the tweet (which needs its id)
   * cannot be applied before this add and leave the id behind. Never throws.
   */
  addOwn(own: { userId: string; tweetId: string }, audience: number): Promise<void>;
}

/**
 * The jobs of a new tweet: its fan-out, and when the author posts with at least `threshold`
 * followers for the first time, their entry among the authors merged at read time.
 */
export async function enqueueTweetPosted(
  tx: Queryable,
  ids: IdGenerator,
  tweet: { id: string; authorId: string; authorFollowers: number },
  threshold: number,
): Promise<string[]> {
  // One round trip (it delays the live push, which leaves after the commit). The `large` job's id
  // is taken first, so it is applied before the post's; unused when the author is already listed.
  const largeId = ids.next();
  const postId = ids.next();
  const [row] = await tx.query<{ large_job: string | null }>(
    `WITH listed AS (
       INSERT INTO timeline_large_authors (author_id) SELECT $3::bigint WHERE $5::boolean ON CONFLICT DO NOTHING RETURNING author_id),
     large_job AS (INSERT INTO timeline_jobs (id, kind, author_id) SELECT $1, 'large', author_id FROM listed RETURNING id)
     INSERT INTO timeline_jobs (id, kind, author_id, tweet_id) VALUES ($2, 'post', $3, $4) RETURNING (SELECT id FROM large_job) AS large_job`,
    [largeId, postId, tweet.authorId, tweet.id, tweet.authorFollowers >= threshold],
  );
  return row?.large_job ? [row.large_job, postId] : [postId];
}
