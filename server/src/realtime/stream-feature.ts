import type { ChatMessageEvent, UserSummary } from '@flock/client/protocol';
import { z } from 'zod';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import type { DomainEvents } from '../domain/events.ts';
import { toSummary, type AuthorCols } from '../domain/rows.ts';
import { FlockError, notFound } from '../errors.ts';
import type { IdGenerator } from '../ids.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { RateLimiter } from '../rate-limit/rate-limiter.ts';
import { graphemeText, id } from '../routes/schemas.ts';
import type { LivePush } from './live-push.ts';
import { onAck, type FlockIo, type FlockSocket, type SocketFeature } from './socket-feature.ts';

const streamRef = z.strictObject({ streamId: id });
const chatSend = z.strictObject({ streamId: id, text: graphemeText(280) });

/** Viewer counts are pushed at most this often per stream (joins and leaves are coalesced). */
const VIEWER_PUSH_MS = 500;

export const streamRoom = (streamId: string): string => `stream:${streamId}`;

/**
 * Live streams on the socket: `stream:join`/`stream:leave` (room `stream:<id>`, the viewer count
 * pushed as `stream:viewers`), `chat:send` → `chat:message` to the room (rate-limited per user,
 * 1–280 grapheme clusters, live streams only), and the `stream:live`/`stream:ended` pushes to the
 * broadcaster's followers (the same audience rooms as their tweets). Chat is live only: it is
 * not stored, like most live-stream chats.
 */
export class StreamFeature implements SocketFeature {
  readonly events = ['stream:join', 'stream:leave', 'chat:send'] as const;
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private viewerSeq = 0;

  constructor(
    private readonly d: {
      config: Config;
      db: Database;
      log: Logger;
      metrics: Metrics;
      ids: IdGenerator;
      limiter: RateLimiter;
      events: DomainEvents;
      io: FlockIo;
      livePush: LivePush;
    },
  ) {
    const fail = (err: unknown) => d.log.warn({ err: (err as Error).message }, 'stream push failed');
    d.events.on('stream:live', ({ stream }) => {
      this.followersAudience(stream.owner.id)
        .then((rooms) => {
          d.io.to(rooms).emit('stream:live', { id: `live:${stream.id}`, stream });
          d.metrics.broadcasts.inc({ event: 'stream:live' });
        })
        .catch(fail);
    });
    d.events.on('stream:ended', ({ streamId, ownerId }) => {
      this.followersAudience(ownerId)
        .then((rooms) => {
          d.io.to([...rooms, streamRoom(streamId)]).emit('stream:ended', { id: `ended:${streamId}`, streamId });
          d.metrics.broadcasts.inc({ event: 'stream:ended' });
        })
        .catch(fail);
    });
  }

  private async followersAudience(ownerId: string): Promise<string[]> {
    const [u] = await this.d.db.query<{ followers_count: number }>('SELECT followers_count FROM users WHERE id = $1', [ownerId]);
    return this.d.livePush.audience(ownerId, u?.followers_count ?? 0);
  }

  attach(socket: FlockSocket): void {
    const { log } = this.d;
    const userId = socket.data.userId;
    let me: UserSummary | null = null;
    onAck(socket, 'stream:join', streamRef, async ({ streamId }) => {
      await this.status(streamId);
      await socket.join(streamRoom(streamId));
      this.scheduleViewers(streamId);
      return { viewers: await this.viewers(streamId) };
    }, log);
    onAck(socket, 'stream:leave', streamRef, async ({ streamId }) => {
      await socket.leave(streamRoom(streamId));
      this.scheduleViewers(streamId);
      return {};
    }, log);
    onAck(socket, 'chat:send', chatSend, async ({ streamId, text }) => {
      const rule = this.d.config.RATE_CHAT_PER_USER;
      const decision = await this.d.limiter.hit(`chat:${userId}`, rule);
      if (!decision.allowed) throw new FlockError('FLOCK_ERR_RATE_LIMITED', 'Chat limit reached; slow down', { retryAfterMs: decision.retryAfterMs });
      if ((await this.status(streamId)) !== 'live') throw new FlockError('FLOCK_ERR_VALIDATION', 'Chat is open while the stream is live');
      me ??= await this.summary(userId);
      const message: ChatMessageEvent = { id: this.d.ids.next(), streamId, user: me, text, sentAt: new Date().toISOString() };
      this.d.io.to(streamRoom(streamId)).emit('chat:message', message);
      this.d.metrics.broadcasts.inc({ event: 'chat:message' });
      return { message };
    }, log);
    socket.on('disconnecting', () => {
      for (const room of socket.rooms) if (room.startsWith('stream:')) this.scheduleViewers(room.slice('stream:'.length));
    });
  }

  private async status(streamId: string): Promise<string> {
    const [s] = await this.d.db.query<{ status: string }>('SELECT status FROM streams WHERE id = $1', [streamId]);
    if (!s) throw notFound('No such stream');
    return s.status;
  }

  private async summary(userId: string): Promise<UserSummary> {
    const [r] = await this.d.db.query<AuthorCols>('SELECT a.id AS a_id, a.handle AS a_handle, a.name AS a_name, a.avatar_url AS a_avatar_url FROM users a WHERE a.id = $1', [userId]);
    if (!r) throw notFound('No such user');
    return toSummary(r);
  }

  /** Sockets in the stream's room, on every node. */
  async viewers(streamId: string): Promise<number> {
    return (await this.d.io.in(streamRoom(streamId)).fetchSockets()).length;
  }

  private scheduleViewers(streamId: string): void {
    if (this.pending.has(streamId)) return;
    const timer = setTimeout(() => {
      this.pending.delete(streamId);
      this.viewers(streamId).then(
        (viewers) => this.d.io.to(streamRoom(streamId)).emit('stream:viewers', { id: `viewers:${streamId}:${++this.viewerSeq}`, streamId, viewers }),
        (err: unknown) => this.d.log.warn({ err: (err as Error).message }, 'viewer count failed'),
      );
    }, VIEWER_PUSH_MS);
    timer.unref();
    this.pending.set(streamId, timer);
  }

  close(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
  }
}
