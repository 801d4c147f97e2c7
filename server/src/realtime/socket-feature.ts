import type { AckError, ClientToServerEvents, DisconnectCode, ErrorCode, ServerToClientEvents } from '@flock/client/protocol';
import type { Server, Socket } from 'socket.io';
import type { z } from 'zod';
import type { Invalidation } from '../cache/invalidation-bus.ts';
import { FlockError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { MessagingSignal } from './messaging-signal.ts';

/** What the gateway keeps on every authenticated socket. */
export interface SocketData {
  userId: string;
  sessionId: string | null;
  /** `author:<id>` rooms to join at connect (large accounts this user follows); emptied once joined. */
  authorRooms: string[];
}

export interface KickOrder {
  room: string;
  /** Only the sockets of this session (within the room). */
  sessionId?: string;
  code: DisconnectCode;
  reason: string;
}

export interface InterServerEvents {
  'flock:kick': (k: KickOrder) => void;
  /** Messaging news for the other nodes' subscribers and consumers (realtime/messaging-feature.ts). */
  'flock:messaging': (s: MessagingSignal) => void;
  /** In-process cache invalidations (cache/invalidation-bus.ts). */
  'flock:invalidate': (m: Invalidation) => void;
}

export type FlockIo = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type FlockSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/**
 * One group of client → server events (sync, chat, topics, WebRTC signaling, …). The socket
 * server admits only events that some registered feature declares (anything else gets an ack
 * error), applies the per-socket rate limit, then lets each feature bind its handlers to every
 * authenticated socket. Features are registered by the composition root with `SocketServer.use`.
 */
export interface SocketFeature {
  /** Event names this feature handles; each name belongs to one feature. */
  readonly events: readonly (keyof ClientToServerEvents & string)[];
  /** Binds the handlers to a socket that has just connected (its `data` is set). */
  attach(socket: FlockSocket): void;
}

export const ackError = (code: ErrorCode, message: string, details?: unknown): AckError => ({
  ok: false,
  error: { code, message, ...(details === undefined ? {} : { details }) },
});

/** A thrown FlockError becomes its ack error; anything else is logged and answered as INTERNAL. */
export function toAckError(err: unknown, log: Logger): AckError {
  if (err instanceof FlockError) return ackError(err.code, err.message, err.details);
  log.error({ err }, 'socket handler failed');
  return ackError('FLOCK_ERR_INTERNAL', 'Internal error');
}

/**
 * Binds an acknowledged event: the payload is validated by `schema` (a bad one answers
 * FLOCK_ERR_VALIDATION with details and calls nothing), `handler`'s result is sent as
 * `{ok: true, …result}`, and a thrown error as `{ok: false, error}`. Calls without an ack
 * function are ignored: every client → server event of the contract is acknowledged.
 */
export function onAck<T, R extends object>(
  socket: FlockSocket,
  event: keyof ClientToServerEvents & string,
  schema: z.ZodType<T>,
  handler: (req: T) => Promise<R>,
  log: Logger,
): void {
  const untyped = socket as unknown as { on(event: string, fn: (...args: unknown[]) => void): void };
  untyped.on(event, (...args: unknown[]) => {
    const ack = args[args.length - 1];
    if (typeof ack !== 'function') return;
    const reply = ack as (res: object) => void;
    const payload = args.length > 1 ? args[0] : undefined;
    const parsed = schema.safeParse(payload ?? {});
    if (!parsed.success) {
      reply(ackError('FLOCK_ERR_VALIDATION', `Invalid ${event} request`, parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))));
      return;
    }
    handler(parsed.data).then(
      (res) => reply({ ok: true, ...res }),
      (err: unknown) => reply(toAckError(err, log)),
    );
  });
}
