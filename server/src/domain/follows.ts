import { FlockError } from '../errors.ts';
import type { DomainDeps } from './deps.ts';
import { enqueueTimelineJob } from '../timeline/timeline-jobs.ts';
import { insertNotifications } from './notifications.ts';
import { userIdByHandle } from './users.ts';

/** Follow and unfollow; both idempotent. Counters and the `follow` notification change only on a real change. */
export class FollowService {
  constructor(private readonly d: DomainDeps) {}

  async follow(followerId: string, handle: string): Promise<{ following: true; changed: boolean }> {
    const followeeId = await userIdByHandle(this.d.db, handle);
    if (followeeId === followerId) throw new FlockError('FLOCK_ERR_VALIDATION', 'You cannot follow yourself');
    const result = await this.d.db.transaction(async (tx) => {
      const ins = await tx.query(
        'INSERT INTO follows (follower_id, followee_id, id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id',
        [followerId, followeeId, this.d.ids.next()],
      );
      if (ins.length === 0) return { changed: false, notes: [], job: null };
      await tx.query('UPDATE users SET following_count = following_count + 1 WHERE id = $1', [followerId]);
      await tx.query('UPDATE users SET followers_count = followers_count + 1 WHERE id = $1', [followeeId]);
      const notes = await insertNotifications(tx, this.d.ids, [{ userId: followeeId, kind: 'follow', actorId: followerId }]);
      // The backfill of the follower's timeline commits with the follow.
      const job = await enqueueTimelineJob(tx, this.d.ids, { kind: 'follow', authorId: followeeId, followerId });
      return { changed: true, notes, job };
    });
    if (result.job) {
      this.d.events.emit('follow:changed', { followerId, followeeId, following: true });
      for (const n of result.notes) this.d.events.emit('notification:created', n);
      await this.d.fanout.afterCommit([result.job], 1);
    }
    return { following: true, changed: result.changed };
  }

  async unfollow(followerId: string, handle: string): Promise<{ following: false; changed: boolean }> {
    const followeeId = await userIdByHandle(this.d.db, handle);
    const job = await this.d.db.transaction(async (tx) => {
      const del = await tx.query('DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2 RETURNING id', [followerId, followeeId]);
      if (del.length === 0) return null;
      await tx.query('UPDATE users SET following_count = following_count - 1 WHERE id = $1', [followerId]);
      await tx.query('UPDATE users SET followers_count = followers_count - 1 WHERE id = $1', [followeeId]);
      await tx.query(`DELETE FROM notifications WHERE user_id = $1 AND kind = 'follow' AND actor_id = $2`, [followeeId, followerId]);
      return enqueueTimelineJob(tx, this.d.ids, { kind: 'unfollow', authorId: followeeId, followerId });
    });
    if (job) {
      this.d.events.emit('follow:changed', { followerId, followeeId, following: false });
      await this.d.fanout.afterCommit([job], 1);
    }
    return { following: false, changed: job !== null };
  }
}
