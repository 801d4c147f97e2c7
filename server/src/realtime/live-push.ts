import { DISCONNECT_CODES, type Tweet } from '@flock/client/protocol';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import type { DomainEvents } from '../domain/events.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { LoopLoad, PushCoalescer } from './push-coalescer.ts';
import type { SocketServer } from './socket-server.ts';

/** A batch this large goes out without waiting for the rest of the window (bounds the burst and the wait). */
const MAX_PUSH_BATCH = 512;

/**
 * Turns committed domain events into socket pushes (at-most-once; `sync`
 * recovers what a client missed). Audience of a tweet: for an author with at
 * least LIVE_ROOM_THRESHOLD followers, the single room `author:<id>` (the
 * author's own sockets join it too), which uWS publishes natively; for a
 * smaller author, the `user:` rooms of the author and each follower, so a
 * follower's socket pays no room membership for small accounts.
 *
 * Every emit goes through a PushCoalescer (LIVE_PUSH_COALESCE_MS, stretching
 * up to LIVE_PUSH_COALESCE_MAX_MS while the event loop is busy): a lone push
 * leaves at once; under load pushes leave in batches, so uWS writes all of a
 * socket's new events with one syscall.
 */
export class LivePush {
  private readonly coalescer: PushCoalescer;

  constructor(
    private readonly d: { config: Config; db: Database; log: Logger; metrics: Metrics; events: DomainEvents; sockets: SocketServer },
  ) {
    const failed = (err: unknown) => d.log.warn({ err: (err as Error).message }, 'live push failed');
    const load = new LoopLoad();
    this.coalescer = new PushCoalescer({
      windowMs: d.config.LIVE_PUSH_COALESCE_MS,
      maxWindowMs: d.config.LIVE_PUSH_COALESCE_MAX_MS,
      load: () => load.read(),
      maxBatch: MAX_PUSH_BATCH,
      onFlush: (size) => d.metrics.pushBatchSize.observe(size),
      onWindow: (ms) => d.metrics.pushWindow.observe(ms / 1000),
      onError: failed,
    });
    const on = <A extends unknown[]>(fn: (...a: A) => Promise<void>) => (...a: A) => {
      fn(...a).catch(failed);
    };
    d.events.on('tweet:created', on(({ tweet, authorFollowers }: { tweet: Tweet; authorFollowers: number }) => this.tweetCreated(tweet, authorFollowers)));
    d.events.on('tweet:deleted', on((e) => this.tweetDeleted(e.id, e.authorId, e.authorFollowers)));
    d.events.on('notification:created', on(async ({ userId, notification }) => {
      this.coalescer.push(() => {
        d.sockets.io.to(`user:${userId}`).emit('notification', { id: notification.id, notification });
        d.metrics.broadcasts.inc({ event: 'notification' });
      });
    }));
    d.events.on('follow:changed', on((e) => this.followChanged(e.followerId, e.followeeId, e.following)));
    // Pending pushes go out before a kick, so the notice stays the socket's last event.
    d.events.on('session:revoked', on(async ({ userId, sessionId }) => {
      this.coalescer.flush();
      if (sessionId) d.sockets.kick({ room: `user:${userId}`, sessionId }, DISCONNECT_CODES.LOGGED_OUT, 'logged out');
    }));
    d.events.on('user:deleted', on(async ({ userId }) => {
      this.coalescer.flush();
      d.sockets.kick({ room: `user:${userId}` }, DISCONNECT_CODES.ACCOUNT_DELETED, 'account deleted');
    }));
  }

  private async followersCount(userId: string): Promise<number | null> {
    const [row] = await this.d.db.query<{ followers_count: number }>('SELECT followers_count FROM users WHERE id = $1', [userId]);
    return row ? row.followers_count : null;
  }

  /** Rooms that reach every online follower of an author, and the author's own sockets. */
  async audience(authorId: string, followers: number): Promise<string[]> {
    if (followers >= this.d.config.LIVE_ROOM_THRESHOLD) return [`author:${authorId}`];
    const rows = await this.d.db.query<{ follower_id: string }>('SELECT follower_id FROM follows WHERE followee_id = $1', [authorId]);
    return [`user:${authorId}`, ...rows.map((r) => `user:${r.follower_id}`)];
  }

  private async tweetCreated(tweet: Tweet, authorFollowers: number): Promise<void> {
    const rooms = await this.audience(tweet.author.id, authorFollowers);
    this.coalescer.push(() => {
      this.d.sockets.io.to(rooms).emit('tweet', { id: tweet.id, tweet });
      this.d.metrics.broadcasts.inc({ event: 'tweet' });
      this.d.metrics.deliveryLatency.observe(Math.max(0, Date.now() - Date.parse(tweet.createdAt)) / 1000);
    });
  }

  private async tweetDeleted(tweetId: string, authorId: string, authorFollowers: number): Promise<void> {
    const rooms = await this.audience(authorId, authorFollowers);
    this.coalescer.push(() => {
      this.d.sockets.io.to(rooms).emit('tweet:deleted', { id: `deleted:${tweetId}`, tweetId, authorId });
      this.d.metrics.broadcasts.inc({ event: 'tweet:deleted' });
    });
  }

  /** Keeps `author:` room membership right on every node, without a reconnect. */
  private async followChanged(followerId: string, followeeId: string, following: boolean): Promise<void> {
    const io = this.d.sockets.io;
    const room = `author:${followeeId}`;
    if (!following) {
      io.in(`user:${followerId}`).socketsLeave(room);
      return;
    }
    const count = (await this.followersCount(followeeId)) ?? 0;
    const threshold = this.d.config.LIVE_ROOM_THRESHOLD;
    if (count === threshold) {
      // The author just became large: its own sockets and every online follower join the room now.
      const rows = await this.d.db.query<{ follower_id: string }>('SELECT follower_id FROM follows WHERE followee_id = $1', [followeeId]);
      io.in([`user:${followeeId}`, ...rows.map((r) => `user:${r.follower_id}`)]).socketsJoin(room);
    } else if (count > threshold) {
      io.in(`user:${followerId}`).socketsJoin(room);
    }
  }
}
