import type { SyncResponse } from '@flock/client/protocol';
import { z } from 'zod';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { listNotifications } from '../domain/notifications.ts';
import type { TweetService } from '../domain/tweets.ts';
import { idMinusMs } from '../ids.ts';
import type { Logger } from '../logger.ts';
import { id } from '../routes/schemas.ts';
import { onAck, type FlockSocket, type SocketFeature } from './socket-feature.ts';

const syncRequest = z.strictObject({ notificationsAfter: id.optional(), timelineSinceId: id.optional() });

/**
 * `sync`: what a client missed while disconnected, from durable storage — notifications after
 * an id (oldest first) and home-timeline tweets since an id (newest first), both starting
 * SYNC_OVERLAP_MS before those ids, so out-of-order pushes cannot leave a gap; the client drops
 * what it already has by id. Each list is capped at SYNC_MAX_ITEMS with a `next` cursor.
 */
export class SyncFeature implements SocketFeature {
  readonly events = ['sync'] as const;

  constructor(private readonly d: { config: Config; db: Database; log: Logger; tweets: TweetService }) {}

  attach(socket: FlockSocket): void {
    const userId = socket.data.userId;
    onAck(socket, 'sync', syncRequest, (req) => this.sync(userId, req), this.d.log);
  }

  async sync(userId: string, req: { notificationsAfter?: string; timelineSinceId?: string }): Promise<SyncResponse> {
    const limit = this.d.config.SYNC_MAX_ITEMS;
    const back = (cursor: string | undefined) => (cursor === undefined ? undefined : idMinusMs(cursor, this.d.config.SYNC_OVERLAP_MS));
    const [notifications, timeline] = await Promise.all([
      listNotifications(this.d.db, userId, { limit, after: back(req.notificationsAfter) ?? '0' }),
      this.d.tweets.home(userId, { limit, sinceId: back(req.timelineSinceId) }),
    ]);
    return { notifications, timeline };
  }
}
