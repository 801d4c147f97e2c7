import type { ServerToClientEvents, TweetEvent } from '@flock/client/protocol';
import { io, type Socket } from 'socket.io-client';
import { ConnectError, LightSocket } from '../lib/socketio-ws-client.ts';
import type { BenchClientKind, SocketTarget } from './fanout-protocol.ts';

/**
 * One benchmark socket, by either client: the light one (socketio-ws-client.ts,
 * the default: it costs the shared cores far less per delivery) or
 * socket.io-client 4.8 (BENCH_CLIENT=socket.io-client, what the first runs
 * used). Both: websocket only, `auth: {token}`, no reconnection (a dropped
 * socket must show up as lost deliveries, not be papered over).
 */

/**
 * A refused handshake that asks to be retried (the gateway could not reach its database in time,
 * FLOCK_ERR_UNAVAILABLE: what a loaded server answers). A real client retries it with backoff, so
 * the workers do too; a socket that drops later is never reconnected.
 */
export const isRetryableConnectError = (err: Error) => err.message.includes('FLOCK_ERR_UNAVAILABLE');

export interface BenchSocket {
  close(): void;
}

export interface BenchSocketHandlers {
  /** A `tweet` event: its id, and a function that reads the tweet's createdAt (call it once per id, not per delivery). */
  onTweet(id: string, createdAt: () => string): void;
  onDisconnect(reason: string): void;
}

export async function connectBenchSocket(
  kind: BenchClientKind,
  target: SocketTarget,
  timeoutMs: number,
  handlers: BenchSocketHandlers,
): Promise<BenchSocket> {
  if (kind === 'light') {
    const socket = await LightSocket.connect({ url: target.url, auth: { token: target.token }, timeoutMs }).catch((err: unknown) => {
      // The same message shape as socket.io-client's below: "message {data}".
      if (err instanceof ConnectError) throw new Error(`${err.message}${err.data ? ` ${JSON.stringify(err.data)}` : ''}`);
      throw err;
    });
    // The id straight from the frame's bytes; the JSON is parsed only for the first delivery of an id.
    socket.onId('tweet', (id, args) => handlers.onTweet(id, () => (args()[0] as TweetEvent).tweet.createdAt));
    socket.on('tweet', (e) => handlers.onTweet((e as TweetEvent).id, () => (e as TweetEvent).tweet.createdAt));
    socket.onceDisconnected(handlers.onDisconnect);
    return { close: () => socket.close() };
  }
  const socket: Socket<ServerToClientEvents> = io(target.url, {
    transports: ['websocket'],
    auth: { token: target.token },
    reconnection: false,
    forceNew: true,
    timeout: timeoutMs,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      socket.off('connect_error');
      socket.on('tweet', (e) => handlers.onTweet(e.id, () => e.tweet.createdAt));
      socket.on('disconnect', handlers.onDisconnect);
      resolve({
        close: () => {
          socket.off('disconnect');
          socket.disconnect();
        },
      });
    });
    socket.once('connect_error', (err: Error & { data?: unknown }) => {
      socket.close();
      reject(new Error(`${err.message}${err.data ? ` ${JSON.stringify(err.data)}` : ''}`));
    });
  });
}
