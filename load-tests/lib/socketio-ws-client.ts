import WebSocket from 'ws';
import { decodeFrame, encodeFrame, websocketUrl, WireError, type Frame } from './socketio-wire.ts';

/**
 * A light Socket.IO client for load generators: one `ws` WebSocket per
 * socket, framing by socketio-wire.ts, namespace `/` only, websocket
 * transport only, no reconnection, no buffering while disconnected, no
 * binary. What it keeps of the protocol: the handshake, auth, ping/pong with
 * the server's ping timeout, events in both directions and acks.
 *
 * Why: socket.io-client spends ~22 µs of CPU per received event (its
 * emitters, the debug build Node resolves, per-packet objects); a benchmark
 * whose clients share the machine with the servers then measures the
 * clients. This one spends a fraction of that (docs/benchmarks.md).
 */

export interface LightSocketOptions {
  /** The server's base URL (`http://host:port`); the path `/socket.io/` is added. */
  url: string;
  /** Sent in the namespace connect packet, as socket.io-client's `auth` option. */
  auth?: Record<string, unknown>;
  /** Gives up (and closes) when not connected to the namespace within this many ms. @default 20000 */
  timeoutMs?: number;
}

/** The namespace refused the connection: `message` and `data` as the server's middleware passed them to `next(err)`. */
export class ConnectError extends Error {
  constructor(
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'ConnectError';
  }
}

type Listener = (...args: unknown[]) => void;
/** Why a socket ended, named as socket.io-client names it. */
export type DisconnectReason = 'io server disconnect' | 'io client disconnect' | 'transport close' | 'transport error' | 'ping timeout' | 'parse error';

export class LightSocket {
  /** The Socket.IO socket id the server gave (`socket.id` on the server). */
  id = '';
  connected = false;
  private readonly listeners = new Map<string, Listener>();
  private readonly acks = new Map<number, Listener>();
  private nextAckId = 0;
  private onDisconnect: ((reason: DisconnectReason) => void) | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private pingDeadlineMs = 0;

  private constructor(private readonly ws: WebSocket) {}

  /**
   * Opens the WebSocket, reads the Engine.IO handshake, joins namespace `/`
   * with `auth`; resolves once connected, rejects with ConnectError (refused)
   * or Error (network, timeout).
   */
  static connect(options: LightSocketOptions): Promise<LightSocket> {
    const ws = new WebSocket(websocketUrl(options.url), { perMessageDeflate: false });
    const socket = new LightSocket(ws);
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.stopPingTimer();
        ws.removeAllListeners();
        ws.on('error', () => {}); // a late error of the aborted socket is not ours to report
        ws.terminate();
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error(`not connected after ${options.timeoutMs ?? 20_000} ms`)), options.timeoutMs ?? 20_000);
      ws.on('error', (err) => fail(err));
      ws.on('close', () => fail(new Error('the server closed the connection during the handshake')));
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        let frame: Frame;
        try {
          frame = socket.decode(data, isBinary);
        } catch (err) {
          return fail(err as Error);
        }
        if (frame.type === 'open') {
          socket.pingDeadlineMs = frame.open.pingInterval + frame.open.pingTimeout;
          socket.armPingTimer();
          ws.send(encodeFrame(options.auth === undefined ? { type: 'connect', nsp: '/' } : { type: 'connect', nsp: '/', data: options.auth }));
        } else if (frame.type === 'ping') {
          socket.onPing();
        } else if (frame.type === 'connect_error') {
          fail(new ConnectError(frame.message, frame.data));
        } else if (frame.type === 'connect') {
          clearTimeout(timer);
          socket.id = typeof frame.data?.sid === 'string' ? frame.data.sid : '';
          socket.connected = true;
          ws.removeAllListeners();
          socket.listen();
          resolve(socket);
        } else {
          fail(new Error(`unexpected ${frame.type} packet during the handshake`));
        }
      });
    });
  }

  /** One listener per event name (a second call replaces the first): the cheapest dispatch. */
  on(event: string, listener: Listener): this {
    this.listeners.set(event, listener);
    return this;
  }

  /** Called once, when the socket ends for any reason. */
  onceDisconnected(handler: (reason: DisconnectReason) => void): this {
    this.onDisconnect = handler;
    return this;
  }

  /** Sends an event; a function as the last argument is called with the server's ack arguments. */
  emit(event: string, ...args: unknown[]): void {
    if (!this.connected) throw new Error('not connected');
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      const id = this.nextAckId++;
      this.acks.set(id, last as Listener);
      this.ws.send(encodeFrame({ type: 'event', nsp: '/', event, args: args.slice(0, -1), id }));
    } else {
      this.ws.send(encodeFrame({ type: 'event', nsp: '/', event, args }));
    }
  }

  /** Leaves the namespace and closes the WebSocket. */
  close(): void {
    if (this.connected && this.ws.readyState === WebSocket.OPEN) this.ws.send(encodeFrame({ type: 'disconnect', nsp: '/' }));
    this.end('io client disconnect');
  }

  private decode(data: Buffer, isBinary: boolean): Frame {
    if (isBinary) throw new WireError('binary frames are not supported');
    return decodeFrame(data.toString());
  }

  private listen(): void {
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      let frame: Frame;
      try {
        frame = this.decode(data, isBinary);
      } catch {
        return this.end('parse error');
      }
      switch (frame.type) {
        case 'event': {
          const listener = this.listeners.get(frame.event);
          if (frame.id !== undefined) {
            const id = frame.id;
            let answered = false;
            const ack = (...args: unknown[]) => {
              if (answered || !this.connected) return;
              answered = true;
              this.ws.send(encodeFrame({ type: 'ack', nsp: '/', id, args }));
            };
            if (listener) listener(...frame.args, ack);
          } else if (listener) {
            listener(...frame.args);
          }
          return;
        }
        case 'ping':
          return this.onPing();
        case 'ack': {
          const callback = this.acks.get(frame.id);
          this.acks.delete(frame.id);
          if (callback) callback(...frame.args);
          return;
        }
        case 'disconnect':
          return this.end('io server disconnect');
        case 'close':
          return this.end('transport close');
        default:
          return; // noop, or packets of other namespaces
      }
    });
    this.ws.on('close', () => this.end('transport close'));
    this.ws.on('error', () => this.end('transport error'));
  }

  private onPing(): void {
    this.ws.send('3');
    this.armPingTimer();
  }

  /** The server pings every pingInterval; silence for pingInterval + pingTimeout means it is gone. */
  private armPingTimer(): void {
    if (this.pingTimer) {
      this.pingTimer.refresh();
      return;
    }
    this.pingTimer = setTimeout(() => this.end('ping timeout'), this.pingDeadlineMs);
    this.pingTimer.unref();
  }

  private stopPingTimer(): void {
    if (this.pingTimer) clearTimeout(this.pingTimer);
    this.pingTimer = null;
  }

  private end(reason: DisconnectReason): void {
    const wasConnected = this.connected;
    this.connected = false;
    this.stopPingTimer();
    this.acks.clear();
    this.ws.removeAllListeners();
    this.ws.on('error', () => {});
    if (reason === 'io client disconnect' || reason === 'io server disconnect') this.ws.close();
    else this.ws.terminate();
    const handler = this.onDisconnect;
    this.onDisconnect = null;
    if (wasConnected && handler) handler(reason);
  }
}
