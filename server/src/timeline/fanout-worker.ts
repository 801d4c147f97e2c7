import type { Database, Queryable } from '../db/database.ts';
import { causeOf } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { TimelineCache } from './timeline-cache.ts';
import type { TimelineJobRunner } from './timeline-jobs.ts';

interface JobRow {
  id: string;
  kind: 'post' | 'delete' | 'follow' | 'unfollow' | 'large';
  author_id: string;
  tweet_id: string | null;
  follower_id: string | null;
  attempts: number;
}

export interface FanoutWorkerOptions {
  /** Jobs claimed per transaction. */
  batch: number;
  /** How often the outbox is polled for jobs of other nodes (and retries) when nothing wakes the worker. */
  pollMs: number;
  /** Ids kept per timeline (what a follow backfills). */
  capacity: number;
  /** Jobs touching at most this many timelines run in the request that committed them. */
  inlineMax: number;
  /** false: this node applies no job at all (others do); enqueueing is unaffected. */
  enabled: boolean;
}

/** Retry delay after a job failed `attempts` times: 1 s, 2 s, 4 s … up to 5 minutes. */
export const retryDelayMs = (attempts: number): number => Math.min(300_000, 1000 * 2 ** Math.max(0, attempts - 1));

/**
 * Applies the fan-out outbox (timeline_jobs) to the timeline cache. Each batch is one transaction:
 * it claims due jobs with FOR UPDATE SKIP LOCKED (so nodes share the work), takes a transaction
 * advisory lock per author (so two jobs of one author never interleave their reads and writes),
 * applies each job and deletes it. A node that dies mid-batch rolls the transaction back and the
 * jobs are claimed again: every job is idempotent and reconciles the cache with the current state
 * of PostgreSQL (current followers, current follow edge, tweet still live), so neither a repeat
 * nor an out-of-order run leaves a wrong entry. A failing job is retried with backoff.
 */
export class FanoutWorker implements TimelineJobRunner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly d: {
      db: Database;
      cache: TimelineCache;
      log: Logger;
      options: FanoutWorkerOptions;
      onJob: (kind: string, outcome: 'done' | 'failed') => void;
    },
  ) {}

  /** Starts polling (unless disabled); `wake` makes it look at once. */
  start(): void {
    if (!this.d.options.enabled) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Whether jobs of this audience go to the background: this node's worker (woken), or another node's when it has none. */
  private background(audience: number): boolean {
    return !this.d.options.enabled || audience > this.d.options.inlineMax;
  }

  async addOwn(own: { userId: string; tweetId: string }, audience: number): Promise<void> {
    if (!this.background(audience)) return;
    try {
      await this.d.cache.add([own.userId], [own.tweetId]);
    } catch (err) {
      // The job adds it too; until it runs, the author's page comes from the cache without it.
      this.d.log.warn({ err: (err as Error).message }, "adding a tweet to its author's timeline failed; the fan-out job adds it");
    }
  }

  async afterCommit(jobIds: readonly string[], audience: number): Promise<void> {
    if (jobIds.length === 0) return;
    if (this.background(audience)) {
      this.wake();
      return;
    }
    try {
      await this.claimAndApply('id = ANY($1::bigint[])', [jobIds]);
    } catch (err) {
      this.d.log.warn({ err: (err as Error).message, cause: causeOf(err) }, 'timeline fan-out after commit failed; the worker retries it');
      this.wake();
    }
  }

  wake(): void {
    if (this.stopped || this.timer === null) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.drain()
        .then(
          () => {
            if (this.failing) this.d.log.info('timeline fan-out worker recovered');
            this.failing = false;
          },
          (err: unknown) => {
            // Once per outage, not once per poll.
            if (!this.failing) this.d.log.warn({ err: (err as Error).message, cause: causeOf(err) }, 'timeline fan-out batch failed; retrying every poll');
            this.failing = true;
          },
        )
        .finally(() => {
          this.running = null;
          const soon = this.again;
          this.again = false;
          this.schedule(soon ? 0 : this.d.options.pollMs);
        });
    }, ms);
    this.timer.unref();
  }

  /**
   * Resolves once every job due now is applied, by this call or by the background run under way
   * (whose claimed jobs `drain` would skip): what a reader needs before expecting a fan-out done.
   */
  async settle(): Promise<void> {
    for (;;) {
      if (this.running) {
        await this.running;
        continue;
      }
      if ((await this.runBatch()) > 0 || this.running) continue;
      // Nothing claimable, but jobs locked by another transaction (a request's inline run, another
      // node's worker) are skipped, not waited for: done only when no due job is left at all.
      const [due] = await this.d.db.query('SELECT 1 FROM timeline_jobs WHERE run_after <= now() LIMIT 1');
      if (due === undefined) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Runs batches until no job is due. */
  async drain(): Promise<void> {
    while (!this.stopped && (await this.runBatch()) > 0);
  }

  /** One transaction's worth of due jobs; resolves to the number of jobs claimed. */
  runBatch(): Promise<number> {
    return this.claimAndApply('run_after <= now()', []);
  }

  private async claimAndApply(where: string, params: unknown[]): Promise<number> {
    return this.d.db.transaction(async (tx) => {
      const jobs = await tx.query<JobRow>(
        `SELECT id, kind, author_id, tweet_id, follower_id, attempts FROM timeline_jobs
          WHERE ${where} ORDER BY id LIMIT ${this.d.options.batch} FOR UPDATE SKIP LOCKED`,
        params,
      );
      if (jobs.length === 0) return 0;
      // Ascending order on every node, so two batches never wait on each other in a cycle. Posts
      // only add their own id to timelines, so posts of one author commute and share the lock (an
      // author posting fast is not serialized here, nor holding pool connections while it waits);
      // a batch with a delete, follow or unfollow of that author takes it exclusively.
      const authors = [...new Set(jobs.map((j) => j.author_id))].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      for (const a of authors) {
        const postsOnly = jobs.every((j) => j.author_id !== a || j.kind === 'post');
        await tx.query(`SELECT ${postsOnly ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock'}(7310432, hashtext($1))`, [a]);
      }
      const done: string[] = [];
      // With more than one job, each group runs under a savepoint: an SQL error of one (a statement
      // timeout on a huge followers query, say) rolls back only that group, which is recorded as
      // failed with its backoff, instead of aborting the batch and failing it again on every poll.
      const savepoints = jobs.length > 1;
      const outcome = async (group: readonly JobRow[], work: () => Promise<void>): Promise<void> => {
        try {
          if (savepoints) await tx.query('SAVEPOINT fanout_group');
          await work();
          if (savepoints) await tx.query('RELEASE SAVEPOINT fanout_group');
          for (const job of group) {
            done.push(job.id);
            this.d.onJob(job.kind, 'done');
          }
        } catch (err) {
          if (savepoints) await tx.query('ROLLBACK TO SAVEPOINT fanout_group');
          for (const job of group) await this.failed(tx, job, err);
        }
      };
      // Posts of one author reach the same timelines: one liveness query for the batch, and per
      // author one followers query and one add of all their live tweets. Under load the worker
      // claims several posts of an author at once, and each timeline is written once for them all.
      // (Posts commute with the batch's other jobs: every job reads the follow graph as it is now.)
      const posts = jobs.filter((j) => j.kind === 'post');
      if (posts.length > 0) {
        const live = new Set(
          (await tx.query<{ id: string }>('SELECT id FROM tweets WHERE id = ANY($1::bigint[]) AND deleted_at IS NULL', [posts.map((j) => j.tweet_id)])).map((r) => r.id),
        );
        for (const author of new Set(posts.map((j) => j.author_id))) {
          const group = posts.filter((j) => j.author_id === author);
          // A deleted tweet is skipped: its delete job has it covered.
          const ids = group.map((j) => j.tweet_id!).filter((id) => live.has(id));
          await outcome(group, async () => {
            if (ids.length > 0) await this.d.cache.add(await this.readers(tx, author), ids);
          });
        }
      }
      for (const job of jobs) {
        const { kind } = job;
        if (kind !== 'post') await outcome([job], () => this.apply(tx, { ...job, kind }));
      }
      if (done.length > 0) await tx.query('DELETE FROM timeline_jobs WHERE id = ANY($1::bigint[])', [done]);
      return jobs.length;
    });
  }

  private async failed(tx: Queryable, job: JobRow, err: unknown): Promise<void> {
    this.d.onJob(job.kind, 'failed');
    const attempts = job.attempts + 1;
    this.d.log.warn({ err: (err as Error).message, cause: causeOf(err), job: job.id, kind: job.kind, attempts }, 'timeline job failed; will retry');
    await tx.query(
      `UPDATE timeline_jobs SET attempts = $2, last_error = $3, run_after = now() + $4 * interval '1 millisecond' WHERE id = $1`,
      [job.id, attempts, (err as Error).message.slice(0, 500), retryDelayMs(attempts)],
    );
  }

  /** The timelines an author's tweets go to: their own, plus their followers' unless they are merged at read time. */
  private async readers(tx: Queryable, authorId: string): Promise<string[]> {
    return (await this.isLarge(tx, authorId)) ? [authorId] : [authorId, ...(await this.followers(tx, authorId))];
  }

  private async isLarge(tx: Queryable, authorId: string): Promise<boolean> {
    return (await tx.query('SELECT 1 FROM timeline_large_authors WHERE author_id = $1', [authorId])).length > 0;
  }

  private async followers(tx: Queryable, authorId: string): Promise<string[]> {
    const rows = await tx.query<{ follower_id: string }>('SELECT follower_id FROM follows WHERE followee_id = $1', [authorId]);
    return rows.map((r) => r.follower_id);
  }

  private async following(tx: Queryable, followerId: string, authorId: string): Promise<boolean> {
    return (await tx.query('SELECT 1 FROM follows WHERE follower_id = $1 AND followee_id = $2', [followerId, authorId])).length > 0;
  }

  /** One job of any kind but a post (posts are applied per author, in claimAndApply). */
  private async apply(tx: Queryable, job: JobRow & { kind: Exclude<JobRow['kind'], 'post'> }): Promise<void> {
    const { cache } = this.d;
    const a = job.author_id;
    switch (job.kind) {
      case 'delete':
        await cache.remove(await this.readers(tx, a), [job.tweet_id!]);
        return;
      case 'follow': {
        const u = job.follower_id!;
        if (!(await this.following(tx, u, a))) return; // unfollowed since: the unfollow job cleans up
        if (await this.isLarge(tx, a)) {
          await cache.forgetLarge(u);
          return;
        }
        const rows = await tx.query<{ id: string }>(
          'SELECT id FROM tweets WHERE author_id = $1 AND deleted_at IS NULL ORDER BY id DESC LIMIT $2',
          [a, this.d.options.capacity],
        );
        await cache.add([u], rows.map((r) => r.id));
        return;
      }
      case 'unfollow': {
        const u = job.follower_id!;
        if (await this.following(tx, u, a)) return; // followed again since: the follow job backfills
        if (await this.isLarge(tx, a)) await cache.forgetLarge(u);
        const oldest = await cache.oldest(u);
        const rows =
          oldest === null
            ? []
            : await tx.query<{ id: string }>('SELECT id FROM tweets WHERE author_id = $1 AND id >= $2', [a, oldest]);
        // Always a remove, even of nothing: it changes the version, so a rebuild that read the follow cannot fill.
        await cache.remove([u], rows.map((r) => r.id));
        return;
      }
      case 'large':
        await cache.bumpLargeEpoch();
        return;
    }
  }

  /** Stops polling and waits for a running batch. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
