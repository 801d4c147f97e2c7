import { decodeFrame, encodeFrame, type EngineOpen, type Frame } from './socketio-wire.ts';

/**
 * One Socket.IO client connection (namespace `/`) over any text transport, as a pure state
 * machine: feed it every received text frame, it answers through `send`. It does what
 * socket.io-client does on a WebSocket that opens straight into the websocket transport: wait for
 * Engine.IO's open packet, join the namespace with `auth`, answer pings, dispatch events, match
 * acks to their callbacks. No timers and no imports beyond the framing, so the same code runs in
 * k6 (load-tests/k6/lib/socket.ts binds it to k6/websockets) and under vitest.
 */

export type SessionState = 'opening' | 'connecting' | 'connected' | 'closed';

export interface SessionHandlers {
  /** The namespace accepted the connect; `sid` is Socket.IO's socket id. */
  onConnect?(sid: string): void;
  /** The namespace refused the connect (Flock: `data.code` is FLOCK_ERR_UNAUTHORIZED or FLOCK_ERR_TOKEN_EXPIRED). */
  onConnectError?(message: string, data: unknown): void;
  /** A server event (`42["name", …args]`). */
  onEvent?(event: string, args: unknown[]): void;
  /** The server ended the session (Socket.IO disconnect or Engine.IO close). */
  onDisconnect?(reason: string): void;
  /** A frame this client cannot decode; the session stays open. */
  onProtocolError?(error: Error): void;
}

export interface SocketIoSession {
  state(): SessionState;
  /** Engine.IO's handshake, once received. */
  engine(): EngineOpen | null;
  /** Feed one received text frame. */
  receive(text: string): void;
  emit(event: string, ...args: unknown[]): void;
  /** Emits with an ack request; `onAck` gets the server's answer arguments. Returns the ack id (for cancelAck). */
  emitWithAck(event: string, args: unknown[], onAck: (args: unknown[]) => void): number;
  /** Forgets an ack (its caller timed out); a late answer is then ignored. */
  cancelAck(id: number): boolean;
  pendingAcks(): number;
  /** Leaves the namespace (`41`) and closes the Engine.IO session (`1`); the caller closes the transport. */
  close(): void;
}

export function createSocketIoSession(send: (text: string) => void, auth: Record<string, unknown>, handlers: SessionHandlers = {}): SocketIoSession {
  let state: SessionState = 'opening';
  let open: EngineOpen | null = null;
  let nextAckId = 0;
  const acks: Record<number, (args: unknown[]) => void> = {};
  const out = (frame: Frame) => send(encodeFrame(frame));

  const end = (reason: string) => {
    if (state === 'closed') return;
    state = 'closed';
    if (handlers.onDisconnect) handlers.onDisconnect(reason);
  };

  const receive = (text: string) => {
    if (state === 'closed') return;
    let frame: Frame;
    try {
      frame = decodeFrame(text);
    } catch (err) {
      if (handlers.onProtocolError) handlers.onProtocolError(err as Error);
      return;
    }
    switch (frame.type) {
      case 'open':
        if (state !== 'opening') break;
        open = frame.open;
        state = 'connecting';
        out({ type: 'connect', nsp: '/', data: auth });
        break;
      case 'ping':
        // Engine.IO v4: the server pings, the client answers; no answer within pingTimeout closes it.
        out(frame.data === undefined ? { type: 'pong' } : { type: 'pong', data: frame.data });
        break;
      case 'close':
        end('transport close');
        break;
      case 'connect':
        if (frame.nsp !== '/' || state !== 'connecting') break;
        state = 'connected';
        if (handlers.onConnect) handlers.onConnect(frame.data && typeof frame.data.sid === 'string' ? frame.data.sid : '');
        break;
      case 'connect_error':
        if (frame.nsp !== '/') break;
        state = 'closed';
        if (handlers.onConnectError) handlers.onConnectError(frame.message, frame.data);
        break;
      case 'disconnect':
        if (frame.nsp === '/') end('io server disconnect');
        break;
      case 'event':
        if (frame.nsp !== '/') break;
        if (handlers.onEvent) handlers.onEvent(frame.event, frame.args);
        // The server asked for an ack: Flock's server never does today, but answering keeps the
        // contract (an unanswered ack would leak on the server).
        if (frame.id !== undefined) out({ type: 'ack', nsp: '/', id: frame.id, args: [] });
        break;
      case 'ack': {
        const cb = acks[frame.id];
        if (cb) {
          delete acks[frame.id];
          cb(frame.args);
        }
        break;
      }
      default:
        // pong, upgrade, noop: nothing to do on a websocket-only session.
        break;
    }
  };

  return {
    state: () => state,
    engine: () => open,
    receive,
    emit(event, ...args) {
      out({ type: 'event', nsp: '/', event, args });
    },
    emitWithAck(event, args, onAck) {
      const id = nextAckId++;
      acks[id] = onAck;
      out({ type: 'event', nsp: '/', event, args, id });
      return id;
    },
    cancelAck(id) {
      const had = id in acks;
      delete acks[id];
      return had;
    },
    pendingAcks: () => Object.keys(acks).length,
    close() {
      if (state === 'closed') return;
      if (state === 'connected') out({ type: 'disconnect', nsp: '/' });
      out({ type: 'close' });
      state = 'closed';
    },
  };
}
