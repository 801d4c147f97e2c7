import { DISCONNECT_CODES, type AckError, type ClientToServerEvents, type DisconnectCode, type ErrorCode, type ServerToClientEvents } from '@flock/client/protocol';
import { Server } from 'socket.io';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { FlockError } from '../errors.ts';
import type { Transport } from '../http/types.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { AdapterFactory } from './cluster-adapter.ts';
import {
  ackError,
  type FlockIo,
  type FlockSocket,
  type InterServerEvents,
  type KickOrder,
  type SocketData,
  type SocketFeature,
} from './socket-feature.ts';
import { bufferedBytes, TokenBucket } from './socket-limits.ts';
import { attachFastPublish } from './uws-fast-publish.ts';

export type { FlockIo, FlockSocket, SocketData } from './socket-feature.ts';

export interface SocketServerDeps {
  config: Config;
  db: Database;
  log: Logger;
  metrics: Metrics;
  verifier: TokenVerifier;
  transport: Transport;
  adapter: AdapterFactory | null;
}

/**
 * Socket.IO on the gateway's own HTTP transport (uWS `attachApp`, or the
 * node:http server), namespace `/`. Handshake auth with the access token;
 * each socket joins `user:<id>` and `author:<id>` of the large accounts it
 * follows (and its own when it is large). Clients cannot join rooms.
 * Client → server events come from the features registered with `use`.
 */
export class SocketServer {
  readonly io: FlockIo;
  private readonly sweeper: NodeJS.Timeout;
  private readonly features: SocketFeature[] = [];
  private readonly known = new Set<string>();

  constructor(private readonly d: SocketServerDeps) {
    const { config } = d;
    this.io = new Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>({
      serveClient: false,
      maxHttpBufferSize: config.SOCKET_MAX_PAYLOAD_BYTES,
      cors: { origin: true },
      pingInterval: 25_000,
      pingTimeout: 20_000,
      ...(d.adapter ? { adapter: d.adapter } : {}),
    });
    // uWS keeps at most this much per socket and drops beyond it; the sweeper disconnects such sockets first.
    const publisher = d.transport.attachSockets(this.io, { maxBackpressure: config.SOCKET_MAX_BUFFERED_BYTES * 2 });
    // Room broadcasts skip socket.io's walk over the room while no socket is on long-polling (uws-fast-publish.ts).
    if (publisher) attachFastPublish(this.io, publisher);

    this.io.use((socket, next) => {
      this.authenticate(socket).then(
        () => next(),
        (err: unknown) => next(err as Error),
      );
    });
    this.io.on('connection', (socket) => this.onConnection(socket));
    if (d.adapter) this.io.on('flock:kick', (k) => this.kickLocal(k));
    this.io.of('/').adapter.on('error', (err: unknown) => {
      d.metrics.redisErrors.inc({ client: 'adapter' });
      d.log.warn({ err: (err as Error)?.message }, 'socket adapter error');
    });
    this.sweeper = setInterval(() => this.sweepSlowConsumers(), 250);
    this.sweeper.unref();
  }

  /** Registers a group of client → server events; call before clients connect. */
  use(feature: SocketFeature): this {
    for (const e of feature.events) {
      if (this.known.has(e)) throw new Error(`socket event ${e} is registered twice`);
      this.known.add(e);
    }
    this.features.push(feature);
    return this;
  }

  private async authenticate(socket: FlockSocket): Promise<void> {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    const refuse = (code: ErrorCode, message: string): Error => Object.assign(new Error(message), { data: { code } });
    if (typeof token !== 'string' || token === '') throw refuse('FLOCK_ERR_UNAUTHORIZED', 'Send auth: {token} with the access token');
    let principal;
    try {
      principal = await this.d.verifier.verify(token);
    } catch (err) {
      if (err instanceof FlockError) throw refuse(err.code, err.message);
      throw refuse('FLOCK_ERR_UNAVAILABLE', 'Could not check the token; retry');
    }
    // Large accounts among those followed, and the user itself when large (its own tweets then go to its author room).
    const rows = await this.d.db
      .query<{ followee_id: string }>(
        `SELECT f.followee_id FROM follows f JOIN users u ON u.id = f.followee_id
          WHERE f.follower_id = $1 AND u.followers_count >= $2
         UNION ALL
         SELECT id FROM users WHERE id = $1 AND followers_count >= $2`,
        [principal.userId, this.d.config.LIVE_ROOM_THRESHOLD],
      )
      .catch(() => {
        throw refuse('FLOCK_ERR_UNAVAILABLE', 'The database is unreachable; retry');
      });
    socket.data = { userId: principal.userId, sessionId: principal.sessionId, authorRooms: rows.map((r) => `author:${r.followee_id}`) };
  }

  private onConnection(socket: FlockSocket): void {
    const { userId, authorRooms } = socket.data;
    // Few rooms per socket: each single-member room costs memory here and a channel in Redis.
    void socket.join([`user:${userId}`, ...authorRooms]);
    socket.data.authorRooms = []; // joined; do not keep the list per socket
    this.d.metrics.socketsConnected.inc();
    socket.on('disconnect', (reason) => {
      this.d.metrics.socketsConnected.dec();
      this.d.metrics.socketDisconnects.inc({ reason });
    });

    const bucket = new TokenBucket(this.d.config.SOCKET_EVENTS_PER_SECOND, this.d.config.SOCKET_EVENTS_PER_SECOND * 2);
    let refused = 0;
    socket.use(([event, ...args], next) => {
      const last = args[args.length - 1];
      const ack = typeof last === 'function' ? (last as (a: AckError) => void) : null;
      if (!this.known.has(event)) {
        ack?.(ackError('FLOCK_ERR_VALIDATION', `Unknown event ${JSON.stringify(String(event)).slice(0, 80)}`));
        return;
      }
      if (!bucket.take()) {
        ack?.(ackError('FLOCK_ERR_RATE_LIMITED', 'Too many socket events; slow down'));
        // A client that keeps hammering is cut off; it may come back and sync.
        if (++refused > 100) this.kickSocket(socket, DISCONNECT_CODES.RATE_LIMITED, 'socket event rate limit');
        return;
      }
      next();
    });

    for (const feature of this.features) feature.attach(socket);
  }

  /** Disconnects every socket in a room, on every node, telling it why and whether to reconnect. */
  kick(target: { room: string; sessionId?: string }, code: DisconnectCode, reason: string): void {
    const order: KickOrder = { ...target, code, reason };
    this.kickLocal(order);
    if (this.d.adapter) this.io.serverSideEmit('flock:kick', order);
  }

  private kickLocal(k: KickOrder): void {
    const ids = this.io.of('/').adapter.rooms.get(k.room);
    if (!ids) return;
    for (const sid of [...ids]) {
      const socket = this.io.of('/').sockets.get(sid);
      if (socket && (k.sessionId === undefined || socket.data.sessionId === k.sessionId)) this.kickSocket(socket, k.code, k.reason);
    }
  }

  private kickSocket(socket: FlockSocket, code: DisconnectCode, reason: string): void {
    socket.emit('flock:disconnect', { code, reason, reconnect: code < 4100 });
    socket.disconnect(true);
  }

  private sweepSlowConsumers(): void {
    const limit = this.d.config.SOCKET_MAX_BUFFERED_BYTES;
    for (const socket of this.io.of('/').sockets.values()) {
      if (bufferedBytes(socket.conn as unknown as Parameters<typeof bufferedBytes>[0]) > limit) {
        this.d.metrics.slowConsumers.inc();
        this.kickSocket(socket, DISCONNECT_CODES.SLOW_CONSUMER, 'send buffer full; reconnect and sync');
      }
    }
  }

  /** Tells every local socket to reconnect elsewhere and closes it (SIGTERM drain). */
  drain(): void {
    for (const socket of [...this.io.of('/').sockets.values()]) this.kickSocket(socket, DISCONNECT_CODES.SERVER_DRAINING, 'server shutting down');
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.drain();
    // drain() closed sockets politely; a client that stopped reading never answers the close
    // handshake (the ws library would wait 30 s for it), so cut whatever is still open.
    const engine = this.io.engine as unknown as { clients?: Record<string, { transport?: { socket?: unknown } }> };
    for (const client of Object.values(engine.clients ?? {})) {
      const raw = client.transport?.socket as { terminate?: () => void; close?: () => void } | undefined;
      try {
        if (raw?.terminate) raw.terminate(); // ws (node:http)
        else raw?.close?.(); // uWS: close() is the forceful one
      } catch {
        /* already closed */
      }
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000); // never let shutdown hang on a straggler
      this.io.close(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

