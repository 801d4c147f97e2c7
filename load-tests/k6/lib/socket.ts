import { setTimeout, clearTimeout } from 'k6/timers';
import { WebSocket } from 'k6/websockets';
import { createSocketIoSession, type SessionHandlers, type SocketIoSession } from '../../lib/socketio-session.ts';
import { websocketUrl } from '../../lib/socketio-wire.ts';

/**
 * A Flock socket in k6: k6/websockets carries the frames, createSocketIoSession speaks
 * Engine.IO v4 / Socket.IO v5 (open packet, `40` connect with `{token}`, ping/pong, `42` events,
 * acks). Opened straight on the websocket transport, as the Flock SDK does.
 */

export interface FlockSocketHandlers extends SessionHandlers {
  /** The WebSocket closed, for whatever reason (after onDisconnect when the server said why). */
  onClose?(): void;
  /** The WebSocket failed (refused upgrade, TLS, network). */
  onError?(message: string): void;
}

export interface FlockSocket {
  session: SocketIoSession;
  /** Emits with an ack; resolves with the ack's arguments, rejects after timeoutMs. */
  call(event: string, payload: unknown, timeoutMs: number): Promise<unknown[]>;
  close(): void;
}

export function openFlockSocket(wsBaseUrl: string, token: string, handlers: FlockSocketHandlers, tags: Record<string, string> = {}): FlockSocket {
  const ws = new WebSocket(websocketUrl(wsBaseUrl), null, { tags });
  const session = createSocketIoSession((text) => ws.send(text), { token }, handlers);
  let closed = false;
  ws.onmessage = (e) => {
    if (e && typeof e.data === 'string') session.receive(e.data);
  };
  ws.onerror = (e) => {
    if (handlers.onError) handlers.onError(e ? e.error : 'websocket error');
  };
  ws.onclose = () => {
    if (closed) return;
    closed = true;
    if (session.state() !== 'closed' && handlers.onDisconnect) handlers.onDisconnect('transport close');
    if (handlers.onClose) handlers.onClose();
  };
  return {
    session,
    call(event, payload, timeoutMs) {
      return new Promise((resolve, reject) => {
        const id = session.emitWithAck(event, [payload], (args) => {
          clearTimeout(timer);
          resolve(args);
        });
        const timer = setTimeout(() => {
          session.cancelAck(id);
          reject(new Error(`${event}: no ack within ${timeoutMs} ms`));
        }, timeoutMs);
      });
    },
    close() {
      if (closed) return;
      session.close();
      closed = true;
      ws.close();
      if (handlers.onClose) handlers.onClose();
    },
  };
}
