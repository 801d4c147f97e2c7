import net from 'node:net';
import { decodeFrame, encodeFrame, websocketUrl, WireError, type Frame } from './socketio-wire.ts';
import { checkUpgradeResponse, encodeClientFrame, FrameReader, newWebSocketKey, OPCODE, upgradeRequest } from './ws-frames.ts';

/**
 * A light Socket.IO client for load generators: one TCP connection per
 * socket read through `net`'s `onread` (one read buffer shared by every
 * socket of the process), WebSocket framing by ws-frames.ts, Socket.IO
 * framing by socketio-wire.ts; namespace `/` only, websocket transport only,
 * no reconnection, no buffering while disconnected, no binary, no TLS. What
 * it keeps of the protocol: the upgrade, the handshake, auth, ping/pong with
 * the server's ping timeout, events in both directions and acks.
 *
 * `onId(event, …)` is its fast path: for events whose first argument is an
 * object that starts with a string `id` (every Flock push), it hands over the
 * id read straight from the frame's bytes and parses the rest only when asked.
 *
 * Why: socket.io-client spends ~22 µs of CPU per received event (its
 * emitters, the debug build Node resolves, per-packet objects), and `ws`
 * alone ~10 µs (two streams and an emitter per message); a benchmark whose
 * clients share the machine with the servers then measures the clients.
 * This one spends a fraction of that (docs/benchmarks.md "The light client").
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

/** One read buffer for every socket of the process: `onread` callbacks run one at a time, and each consumes or copies what it got. */
let sharedReadBuffer: Buffer | null = null;
const readBuffer = (): Buffer => (sharedReadBuffer ??= Buffer.allocUnsafe(256 * 1024));

/** Largest upgrade response accepted before giving up on the server. */
const MAX_UPGRADE_HEAD = 16 * 1024;

type IdListener = (id: string, args: () => unknown[]) => void;

export class LightSocket {
  /** The Socket.IO socket id the server gave (`socket.id` on the server). */
  id = '';
  connected = false;
  private readonly listeners = new Map<string, Listener>();
  /** Fast-path listeners by the frame prefix that selects them: `42["<event>",{"id":"`. */
  private idListeners: { prefix: Buffer; event: string; listener: IdListener }[] = [];
  private readonly acks = new Map<number, Listener>();
  private nextAckId = 0;
  private onDisconnect: ((reason: DisconnectReason) => void) | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private pingDeadlineMs = 0;
  /** Bytes of the upgrade response so far; null once upgraded. */
  private head: Buffer | null = Buffer.alloc(0);
  private readonly reader: FrameReader;
  /** Handles Socket.IO text frames: the handshake's handler until connected, then `onText`. */
  private text: (data: Buffer) => void;
  private ended = false;

  private constructor(
    private readonly conn: net.Socket,
    private readonly key: string,
    handshake: (data: Buffer) => void,
    private readonly fail: (err: Error) => void,
  ) {
    this.text = handshake;
    this.reader = new FrameReader((opcode, payload) => this.onFrame(opcode, payload));
  }

  /**
   * Opens the connection, upgrades it, reads the Engine.IO handshake, joins
   * namespace `/` with `auth`; resolves once connected, rejects with
   * ConnectError (refused) or Error (network, protocol, timeout).
   */
  static connect(options: LightSocketOptions): Promise<LightSocket> {
    const target = /^wss?:\/\/([^/]+)(\/.*)$/.exec(websocketUrl(options.url));
    if (target === null || target[0].startsWith('wss')) return Promise.reject(new WireError(`${JSON.stringify(options.url)}: only http:// URLs are supported`));
    const [, host, pathAndQuery] = target as unknown as [string, string, string];
    const hostMatch = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host);
    if (hostMatch === null) return Promise.reject(new WireError(`${JSON.stringify(options.url)}: no host`));
    const hostname = hostMatch[1]!.replace(/^\[|\]$/g, '');
    const port = hostMatch[2] === undefined ? 80 : Number(hostMatch[2]);
    const timeoutMs = options.timeoutMs ?? 20_000;
    const key = newWebSocketKey();
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.stopPingTimer();
        socket.ended = true;
        conn.destroy();
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error(`not connected after ${timeoutMs} ms`)), timeoutMs);
      const handshake = (data: Buffer) => {
        const frame = decodeFrame(data.toString());
        if (frame.type === 'open') {
          socket.pingDeadlineMs = frame.open.pingInterval + frame.open.pingTimeout;
          socket.armPingTimer();
          socket.sendText(encodeFrame(options.auth === undefined ? { type: 'connect', nsp: '/' } : { type: 'connect', nsp: '/', data: options.auth }));
        } else if (frame.type === 'ping') {
          socket.onPing();
        } else if (frame.type === 'connect_error') {
          fail(new ConnectError(frame.message, frame.data));
        } else if (frame.type === 'connect') {
          settled = true;
          clearTimeout(timer);
          socket.id = typeof frame.data?.sid === 'string' ? frame.data.sid : '';
          socket.connected = true;
          socket.text = (d) => socket.onText(d);
          conn.removeAllListeners('close');
          conn.removeAllListeners('error');
          conn.on('close', () => socket.end('transport close'));
          conn.on('error', () => socket.end('transport error'));
          resolve(socket);
        } else {
          fail(new Error(`unexpected ${frame.type} packet during the handshake`));
        }
      };
      const conn = net.connect({
        host: hostname,
        port,
        noDelay: true,
        onread: {
          buffer: readBuffer,
          callback: (n: number, buf: Buffer) => {
            socket.onBytes(buf.subarray(0, n));
            return true;
          },
        },
      });
      const socket = new LightSocket(conn, key, handshake, fail);
      conn.on('connect', () => conn.write(upgradeRequest(host, pathAndQuery, key)));
      conn.on('error', (err) => fail(err));
      conn.on('close', () => fail(new Error('the server closed the connection during the handshake')));
    });
  }

  /** One listener per event name (a second call replaces the first): the cheapest dispatch. */
  on(event: string, listener: Listener): this {
    this.listeners.set(event, listener);
    return this;
  }

  /**
   * The fast path for events `[event, {"id": "<id>", …}]`: `listener` gets the id as read from the
   * frame and a function that decodes the event's arguments (call it only when needed; valid only
   * during the call). Events of that name whose first argument has another shape go to `on`'s
   * listener. Ids must not contain escapes (Flock ids are digits).
   */
  onId(event: string, listener: IdListener): this {
    const prefix = Buffer.from(`42${JSON.stringify([event])!.slice(0, -1)},{"id":"`);
    this.idListeners = [...this.idListeners.filter((l) => l.event !== event), { prefix, event, listener }];
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
      this.sendText(encodeFrame({ type: 'event', nsp: '/', event, args: args.slice(0, -1), id }));
    } else {
      this.sendText(encodeFrame({ type: 'event', nsp: '/', event, args }));
    }
  }

  /** Leaves the namespace and closes the connection. */
  close(): void {
    if (this.connected) this.sendText(encodeFrame({ type: 'disconnect', nsp: '/' }));
    this.end('io client disconnect');
  }

  private sendText(text: string): void {
    if (!this.conn.destroyed) this.conn.write(encodeClientFrame(OPCODE.text, text));
  }

  private onBytes(bytes: Buffer): void {
    if (this.ended) return;
    try {
      if (this.head === null) {
        this.reader.push(bytes);
        return;
      }
      const head = Buffer.concat([this.head, bytes]);
      const blank = head.indexOf('\r\n\r\n');
      if (blank < 0) {
        if (head.length > MAX_UPGRADE_HEAD) throw new WireError('no end of the upgrade response');
        this.head = head;
        return;
      }
      checkUpgradeResponse(head.toString('latin1', 0, blank), this.key);
      this.head = null;
      if (blank + 4 < head.length) this.reader.push(head.subarray(blank + 4));
    } catch (err) {
      if (this.connected) this.end('parse error');
      else this.fail(err as Error);
    }
  }

  private onFrame(opcode: number, payload: Buffer): void {
    switch (opcode) {
      case OPCODE.text:
        this.text(payload);
        return;
      case OPCODE.ping:
        // encodeClientFrame copies the payload into the masked frame.
        this.conn.write(encodeClientFrame(OPCODE.pong, payload));
        return;
      case OPCODE.pong:
        return;
      case OPCODE.close:
        if (this.connected) this.end('transport close');
        else this.fail(new Error('the server closed the connection during the handshake'));
        return;
      default:
        throw new WireError('binary frames are not supported');
    }
  }

  private onText(data: Buffer): void {
    // Engine.IO ping, the most common frame besides events.
    if (data.length === 1 && data[0] === 0x32) return this.onPing();
    for (const l of this.idListeners) {
      const n = l.prefix.length;
      if (data.length > n && data.compare(l.prefix, 0, n, 0, n) === 0) {
        const close = data.indexOf(0x22, n);
        if (close > n) {
          l.listener(data.toString('latin1', n, close), () => {
            const frame = decodeFrame(data.toString());
            return frame.type === 'event' ? frame.args : [];
          });
          return;
        }
      }
    }
    let frame: Frame;
    try {
      frame = decodeFrame(data.toString());
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
            this.sendText(encodeFrame({ type: 'ack', nsp: '/', id, args }));
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
  }

  private onPing(): void {
    this.sendText('3');
    this.armPingTimer();
  }

  /** The server pings every pingInterval; silence for pingInterval + pingTimeout means it is gone. */
  private armPingTimer(): void {
    if (this.pingTimer) {
      this.pingTimer.refresh();
      return;
    }
    this.pingTimer = setTimeout(() => (this.connected ? this.end('ping timeout') : this.fail(new Error('ping timeout during the handshake'))), this.pingDeadlineMs);
    this.pingTimer.unref();
  }

  private stopPingTimer(): void {
    if (this.pingTimer) clearTimeout(this.pingTimer);
    this.pingTimer = null;
  }

  private end(reason: DisconnectReason): void {
    if (this.ended) return;
    this.ended = true;
    const wasConnected = this.connected;
    this.connected = false;
    this.stopPingTimer();
    this.acks.clear();
    this.conn.removeAllListeners('close');
    this.conn.removeAllListeners('error');
    this.conn.on('error', () => {});
    if (reason === 'io client disconnect' || reason === 'io server disconnect') {
      // A clean close: the close frame (1000), then FIN.
      if (!this.conn.destroyed) this.conn.end(encodeClientFrame(OPCODE.close, Buffer.from([0x03, 0xe8])));
    } else {
      this.conn.destroy();
    }
    const handler = this.onDisconnect;
    this.onDisconnect = null;
    if (wasConnected && handler) handler(reason);
  }
}
