import type { ClientToServerEvents, DisconnectNotice, ServerToClientEvents } from '@flock/client/protocol';
import { io, type Socket } from 'socket.io-client';

export type TestSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A connected Socket.IO client; rejects with the connect_error (data included) when refused. */
export function connectSocket(url: string, token: string | undefined, opts: { transports?: ('websocket' | 'polling')[] } = {}): Promise<TestSocket> {
  const socket: TestSocket = io(url, {
    auth: token === undefined ? {} : { token },
    transports: opts.transports ?? ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 5000,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** Collects every event of a kind, with a way to await the next one matching a predicate. */
export function collect<E extends keyof ServerToClientEvents>(socket: TestSocket, event: E) {
  type Payload = Parameters<ServerToClientEvents[E]>[0];
  const items: Payload[] = [];
  const waiters: { pred: (p: Payload) => boolean; resolve: (p: Payload) => void }[] = [];
  (socket as unknown as { on(e: string, f: (p: Payload) => void): void }).on(event, (p: Payload) => {
    items.push(p);
    for (const w of [...waiters]) {
      if (w.pred(p)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(p);
      }
    }
  });
  return {
    items,
    next(pred: (p: Payload) => boolean = () => true, timeoutMs = 5000): Promise<Payload> {
      const found = items.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${String(event)} event within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ pred, resolve: (p) => (clearTimeout(timer), resolve(p)) });
      });
    },
  };
}

/** Resolves with the notice and the disconnect reason when the server closes the socket. */
export function serverClosed(socket: TestSocket, timeoutMs = 5000): Promise<{ notice: DisconnectNotice | null; reason: string }> {
  let notice: DisconnectNotice | null = null;
  socket.on('flock:disconnect', (n) => (notice = n));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('socket was not closed')), timeoutMs);
    socket.once('disconnect', (reason) => {
      clearTimeout(timer);
      resolve({ notice, reason });
    });
  });
}
