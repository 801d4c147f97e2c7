import type { CreatedStream, LiveStream, Notification, StreamStatus } from '@flock/client/protocol';
import { FlockError, forbidden, notFound } from '../errors.ts';
import { isId } from '../ids.ts';
import type { DomainDeps } from './deps.ts';
import { AUTHOR_COLUMNS, page, toSummary, type AuthorCols } from './rows.ts';
import { authorizeStreamKey, newStreamKey } from '@flock/media';

interface StreamRow extends AuthorCols {
  id: string;
  title: string;
  status: StreamStatus;
  created_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
}

const STREAM_COLUMNS = `s.id, s.title, s.status, s.created_at, s.started_at, s.ended_at, ${AUTHOR_COLUMNS}`;

/** Public URLs of a stream; they depend on the deployment (CloudFront, load balancer), not on the row. */
export interface StreamUrls {
  hls(streamId: string): string;
  rtmp(): string;
  /** The Flock socket URL where `webrtc:*` signaling is served; undefined while WebRTC ingest is unavailable. */
  webrtc?(): string | undefined;
}

/** How many sockets watch a stream right now (room `stream:<id>`), across the cluster. */
export type ViewerCounter = (streamId: string) => Promise<number>;

/**
 * Stream records (DESIGN §7): create with a key shown once, read, list, delete (owner only);
 * and the two transitions the media service reports: idle → live (followers get a durable `live`
 * notification) and live → ended. Transitions are conditional updates, so with several gateways
 * hearing the same report exactly one of them performs it.
 */
export class StreamService {
  constructor(
    private readonly d: DomainDeps,
    private readonly urls: StreamUrls,
    private readonly viewers: ViewerCounter,
  ) {}

  private toStream(r: StreamRow, viewers: number): LiveStream {
    return {
      id: r.id,
      owner: toSummary(r),
      title: r.title,
      status: r.status,
      createdAt: r.created_at.toISOString(),
      startedAt: r.started_at?.toISOString() ?? null,
      endedAt: r.ended_at?.toISOString() ?? null,
      viewers,
      playback: { hls: this.urls.hls(r.id) },
    };
  }

  private async withViewers(r: StreamRow): Promise<LiveStream> {
    return this.toStream(r, r.status === 'live' ? await this.viewers(r.id) : 0);
  }

  private async row(id: string): Promise<StreamRow | null> {
    const [r] = await this.d.db.query<StreamRow>(`SELECT ${STREAM_COLUMNS} FROM streams s JOIN users a ON a.id = s.owner_id WHERE s.id = $1`, [id]);
    return r ?? null;
  }

  async create(ownerId: string, title: string): Promise<CreatedStream> {
    const id = this.d.ids.next();
    const { key, hash } = newStreamKey(id);
    await this.d.db.query('INSERT INTO streams (id, owner_id, title, key_hash) VALUES ($1, $2, $3, $4)', [id, ownerId, title, hash]);
    const r = await this.row(id);
    if (!r) throw notFound('The stream vanished');
    const webrtc = this.urls.webrtc?.();
    const ingest = { rtmp: this.urls.rtmp(), ...(webrtc ? { webrtc } : {}) };
    return { ...this.toStream(r, 0), streamKey: key, ingest };
  }

  async get(id: string): Promise<LiveStream> {
    const r = await this.row(id);
    if (!r) throw notFound('No such stream');
    return this.withViewers(r);
  }

  /** Newest first; `live` keeps only streams on air. */
  async list(q: { limit: number; cursor?: string; live?: boolean; ownerId?: string }) {
    const rows = await this.d.db.query<StreamRow>(
      `SELECT ${STREAM_COLUMNS} FROM streams s JOIN users a ON a.id = s.owner_id
        WHERE ($1::bigint IS NULL OR s.id < $1) AND (NOT $2::boolean OR s.status = 'live') AND ($3::bigint IS NULL OR s.owner_id = $3)
        ORDER BY s.id DESC LIMIT $4`,
      [q.cursor ?? null, q.live ?? false, q.ownerId ?? null, q.limit + 1],
    );
    const p = page(rows, q.limit, (r) => r, (r) => r.id);
    return { items: await Promise.all(p.items.map((r) => this.withViewers(r))), next: p.next };
  }

  /** Owner only. Returns the status it had, so the caller can stop a live ingest. */
  async delete(userId: string, id: string): Promise<StreamStatus> {
    const status = await this.ownedStatus(userId, id);
    await this.d.db.query('DELETE FROM streams WHERE id = $1', [id]);
    // Viewers of a live stream learn that it is over (the media service's own report will find no row).
    if (status === 'live') this.d.events.emit('stream:ended', { streamId: id, ownerId: userId });
    return status;
  }

  /** The status of a stream the user owns; not found, or forbidden for someone else's. */
  private async ownedStatus(userId: string, id: string): Promise<StreamStatus> {
    const [r] = await this.d.db.query<{ owner_id: string; status: StreamStatus }>('SELECT owner_id, status FROM streams WHERE id = $1', [id]);
    if (!r) throw notFound('No such stream');
    if (r.owner_id !== userId) throw forbidden('Not your stream');
    return r.status;
  }

  /**
   * Who may publish into a stream from the browser (WebRTC ingest, signed in on the socket rather
   * than holding the key): its owner, while the stream is not over and not already live (an RTMP
   * broadcast holds it).
   */
  async authorizePublisher(userId: string, id: string): Promise<void> {
    if (!isId(id)) throw notFound('No such stream');
    const status = await this.ownedStatus(userId, id);
    if (status === 'ended') throw new FlockError('FLOCK_ERR_VALIDATION', 'The stream is over; create a new one');
    if (status === 'live') throw new FlockError('FLOCK_ERR_INGEST_BUSY', 'The stream is already live');
  }

  /** The stream a key opens: right secret, and not over yet. */
  authorize(streamKey: string): Promise<string | null> {
    return authorizeStreamKey(this.d.db, streamKey);
  }

  /** idle → live; the owner's followers get a `live` notification in the same transaction. */
  async markLive(streamId: string): Promise<void> {
    const result = await this.d.db.transaction(async (tx) => {
      const [s] = await tx.query<{ owner_id: string }>(
        `UPDATE streams SET status = 'live', started_at = now() WHERE id = $1 AND status = 'idle' RETURNING owner_id`,
        [streamId],
      );
      if (!s) return null;
      const followers = await tx.query<{ follower_id: string }>('SELECT follower_id FROM follows WHERE followee_id = $1', [s.owner_id]);
      const ids = followers.map(() => this.d.ids.next());
      // One statement for every follower: a large account's go-live must not be N round trips.
      const rows = await tx.query<{ id: string; user_id: string; created_at: Date }>(
        `INSERT INTO notifications (id, user_id, kind, actor_id, stream_id)
         SELECT n.id, n.user_id, 'live', $3, $4 FROM unnest($1::bigint[], $2::bigint[]) AS n(id, user_id)
         RETURNING id, user_id, created_at`,
        [ids, followers.map((f) => f.follower_id), s.owner_id, streamId],
      );
      return { rows };
    });
    if (!result) return;
    const stream = await this.get(streamId);
    this.d.events.emit('stream:live', { stream });
    for (const r of result.rows) {
      const notification: Notification = { id: r.id, kind: 'live', actor: stream.owner, streamId, createdAt: r.created_at.toISOString(), readAt: null };
      this.d.events.emit('notification:created', { userId: r.user_id, notification });
    }
  }

  /** live (or idle) → ended; the key opens nothing afterwards. */
  async markEnded(streamId: string): Promise<void> {
    const [s] = await this.d.db.query<{ owner_id: string }>(
      `UPDATE streams SET status = 'ended', ended_at = now() WHERE id = $1 AND status <> 'ended' RETURNING owner_id`,
      [streamId],
    );
    if (s) this.d.events.emit('stream:ended', { streamId, ownerId: s.owner_id });
  }
}
