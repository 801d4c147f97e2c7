/**
 * Engine.IO v4 / Socket.IO v5 text framing (the protocol Socket.IO 3 and 4
 * speak), as pure functions: encode a packet to the string sent in one
 * WebSocket text frame, decode a received frame back.
 *
 * Why by hand: load generators (k6's JavaScript runtime, the benchmark's
 * light client) cannot run socket.io-client, or pay too much CPU for it. So
 * this file has NO imports and uses only ES2019 syntax (no `?.`, no `??`,
 * no class fields): copy it as is into a k6 script tree.
 *
 * Supported: every text packet. Engine.IO `0` open (sid, upgrades,
 * pingInterval, pingTimeout, maxPayload), `1` close, `2`/`3` ping/pong (with
 * the `probe` payload of a transport upgrade), `4` message, `5` upgrade, `6`
 * noop; Socket.IO `0` connect (with auth or the server's `{sid}`), `1`
 * disconnect, `2` event with an optional ack id, `3` ack, `4` connect_error,
 * each in any namespace (`/admin,` prefix). Long-polling bodies (packets
 * joined by U+001E) too.
 *
 * NOT supported (decoding throws WireError, encoding refuses binary args):
 * binary packets — Engine.IO `b<base64>` and raw binary frames, Socket.IO
 * `5` binary event and `6` binary ack — and numeric event names. The decoder is
 * also stricter than socket.io-parser where that parser lets a packet through
 * that no server sends and no handler could use: an event without a name (`42`),
 * an ack without an argument list (`431`), and a close, upgrade or noop packet
 * with a payload are errors here.
 *
 * The reference is socket.io-parser 4.2 and engine.io-parser 5.2; the tests
 * (load-tests/test/socketio-wire.test.ts) compare against both.
 */

/** Engine.IO protocol revision, the `EIO=4` query parameter of the handshake URL. */
export const ENGINE_IO_PROTOCOL = 4;
/** Socket.IO protocol revision spoken on top of it. */
export const SOCKET_IO_PROTOCOL = 5;
/** Separator of packets in a long-polling body. */
export const POLLING_SEPARATOR = '\u001e';

/** A frame or packet that does not follow the protocol, or one this module does not support. */
export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

// ---------------------------------------------------------------- Engine.IO

/** The server's `0{…}` handshake. */
export interface EngineOpen {
  sid: string;
  /** Transports the client may upgrade to (`["websocket"]` when it started with polling). */
  upgrades: string[];
  /** The server sends a ping this often (ms); the client answers each with a pong. */
  pingInterval: number;
  /** The server closes the connection when no pong came this long (ms) after a ping. */
  pingTimeout: number;
  /** Largest payload the server accepts (bytes); absent before engine.io 6. */
  maxPayload?: number;
}

export type EnginePacket =
  | { type: 'open'; open: EngineOpen }
  | { type: 'close' }
  /** `data` is `probe` while upgrading from polling to websocket. */
  | { type: 'ping'; data?: string }
  | { type: 'pong'; data?: string }
  /** The payload of a message packet: with Socket.IO on top, an encoded SocketPacket. */
  | { type: 'message'; data: string }
  | { type: 'upgrade' }
  | { type: 'noop' };

const ENGINE_TYPES = ['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop'] as const;

export function encodeEnginePacket(packet: EnginePacket): string {
  switch (packet.type) {
    case 'open':
      return '0' + JSON.stringify(packet.open);
    case 'close':
      return '1';
    case 'ping':
      return packet.data === undefined ? '2' : '2' + packet.data;
    case 'pong':
      return packet.data === undefined ? '3' : '3' + packet.data;
    case 'message':
      return '4' + packet.data;
    case 'upgrade':
      return '5';
    case 'noop':
      return '6';
  }
}

/** Decodes one Engine.IO text packet; throws WireError on anything else. */
export function decodeEnginePacket(text: string): EnginePacket {
  const type = ENGINE_TYPES[text.charCodeAt(0) - 48];
  if (type === undefined) {
    if (text.charAt(0) === 'b') throw new WireError('binary Engine.IO packets (b<base64>) are not supported');
    throw new WireError(text.length === 0 ? 'empty Engine.IO packet' : `unknown Engine.IO packet type ${JSON.stringify(text.charAt(0))}`);
  }
  const data = text.length > 1 ? text.slice(1) : undefined;
  switch (type) {
    case 'open':
      return { type, open: parseOpen(data) };
    case 'ping':
    case 'pong':
      return data === undefined ? { type } : { type, data };
    case 'message':
      return { type, data: data === undefined ? '' : data };
    default:
      if (data !== undefined) throw new WireError(`Engine.IO ${type} packet with a payload`);
      return { type };
  }
}

function parseOpen(data: string | undefined): EngineOpen {
  const json = parseJson(data === undefined ? '' : data, 'Engine.IO open packet');
  if (!isPlainObject(json)) throw new WireError('Engine.IO open packet: not a JSON object');
  const { sid, upgrades, pingInterval, pingTimeout, maxPayload } = json;
  if (typeof sid !== 'string' || sid === '') throw new WireError('Engine.IO open packet: no sid');
  if (!Array.isArray(upgrades) || !upgrades.every((u) => typeof u === 'string')) {
    throw new WireError('Engine.IO open packet: upgrades is not a list of strings');
  }
  if (!isNonNegativeNumber(pingInterval) || !isNonNegativeNumber(pingTimeout)) {
    throw new WireError('Engine.IO open packet: pingInterval and pingTimeout must be numbers');
  }
  const open: EngineOpen = { sid, upgrades: upgrades as string[], pingInterval, pingTimeout };
  if (maxPayload !== undefined) {
    if (!isNonNegativeNumber(maxPayload)) throw new WireError('Engine.IO open packet: maxPayload must be a number');
    open.maxPayload = maxPayload;
  }
  return open;
}

/** A long-polling request or response body: the packets joined by U+001E. */
export function encodePollingPayload(packets: readonly EnginePacket[]): string {
  return packets.map(encodeEnginePacket).join(POLLING_SEPARATOR);
}

export function decodePollingPayload(body: string): EnginePacket[] {
  return body.split(POLLING_SEPARATOR).map(decodeEnginePacket);
}

// ---------------------------------------------------------------- Socket.IO

export type SocketPacket =
  /**
   * Client → server: join the namespace, `data` is the `auth` object.
   * Server → client: joined, `data` is `{sid}` (and `pid` with connection state recovery).
   */
  | { type: 'connect'; nsp: string; data?: Record<string, unknown> }
  | { type: 'disconnect'; nsp: string }
  /** `id` is set when the sender wants an ack (answer with an `ack` of the same id). */
  | { type: 'event'; nsp: string; event: string; args: unknown[]; id?: number }
  | { type: 'ack'; nsp: string; id: number; args: unknown[] }
  /** The namespace refused the connect (a middleware's `next(err)`): `err.message` and `err.data`. */
  | { type: 'connect_error'; nsp: string; message: string; data?: unknown };

const SOCKET_TYPE_CODES = { connect: '0', disconnect: '1', event: '2', ack: '3', connect_error: '4' } as const;

/** Event names socket.io reserves for itself; a peer must not send them. */
const RESERVED_EVENTS = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];

export function encodeSocketPacket(packet: SocketPacket): string {
  let out: string = SOCKET_TYPE_CODES[packet.type];
  if (packet.nsp !== '/') {
    if (packet.nsp.charAt(0) !== '/' || packet.nsp.indexOf(',') !== -1) {
      throw new WireError(`namespace ${JSON.stringify(packet.nsp)} must start with "/" and hold no ","`);
    }
    out += packet.nsp + ',';
  }
  switch (packet.type) {
    case 'connect':
      return packet.data === undefined ? out : out + JSON.stringify(packet.data);
    case 'disconnect':
      return out;
    case 'event':
      if (RESERVED_EVENTS.indexOf(packet.event) !== -1) throw new WireError(`event name "${packet.event}" is reserved`);
      if (packet.id !== undefined) out += ackId(packet.id);
      return out + stringifyArgs([packet.event, ...packet.args]);
    case 'ack':
      return out + ackId(packet.id) + stringifyArgs(packet.args);
    case 'connect_error':
      return out + JSON.stringify(packet.data === undefined ? { message: packet.message } : { message: packet.message, data: packet.data });
  }
}

/** Decodes the payload of one Engine.IO message packet; throws WireError. */
export function decodeSocketPacket(text: string): SocketPacket {
  return decodeSocketAt(text, 0);
}

function decodeSocketAt(text: string, start: number): SocketPacket {
  const code = text.charAt(start);
  if (code === '5' || code === '6') throw new WireError('binary Socket.IO packets are not supported');
  if (code < '0' || code > '4') {
    throw new WireError(code === '' ? 'empty Socket.IO packet' : `unknown Socket.IO packet type ${JSON.stringify(code)}`);
  }
  let i = start + 1;
  let nsp = '/';
  if (text.charAt(i) === '/') {
    const comma = text.indexOf(',', i);
    const end = comma === -1 ? text.length : comma;
    nsp = text.slice(i, end);
    i = comma === -1 ? end : end + 1;
  }
  let id: number | undefined;
  const idStart = i;
  while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  if (i > idStart) {
    id = Number(text.slice(idStart, i));
    if (!Number.isSafeInteger(id)) throw new WireError('Socket.IO ack id out of range');
  }
  const body = i < text.length ? parseJson(text.slice(i), 'Socket.IO packet') : undefined;
  switch (code) {
    case '0':
      if (id !== undefined) throw new WireError('Socket.IO connect with an ack id');
      if (body === undefined) return { type: 'connect', nsp };
      if (!isPlainObject(body)) throw new WireError('Socket.IO connect: data is not a JSON object');
      return { type: 'connect', nsp, data: body };
    case '1':
      if (id !== undefined || body !== undefined) throw new WireError('Socket.IO disconnect with a payload');
      return { type: 'disconnect', nsp };
    case '2': {
      if (!Array.isArray(body) || body.length === 0) throw new WireError('Socket.IO event: payload is not [name, ...args]');
      const event: unknown = body[0];
      if (typeof event !== 'string') throw new WireError('Socket.IO event: only string event names are supported');
      if (RESERVED_EVENTS.indexOf(event) !== -1) throw new WireError(`Socket.IO event: "${event}" is a reserved name`);
      const args = body.slice(1);
      return id === undefined ? { type: 'event', nsp, event, args } : { type: 'event', nsp, event, args, id };
    }
    case '3':
      if (id === undefined) throw new WireError('Socket.IO ack without an id');
      if (!Array.isArray(body)) throw new WireError('Socket.IO ack: payload is not a list');
      return { type: 'ack', nsp, id, args: body };
    case '4':
      if (id !== undefined) throw new WireError('Socket.IO connect_error with an ack id');
      // socket.io 2 sent a bare string; 3 and 4 send {message, data?}.
      if (typeof body === 'string') return { type: 'connect_error', nsp, message: body };
      if (isPlainObject(body) && typeof body.message === 'string') {
        return 'data' in body
          ? { type: 'connect_error', nsp, message: body.message, data: body.data }
          : { type: 'connect_error', nsp, message: body.message };
      }
      throw new WireError('Socket.IO connect_error: payload is not {message, data?}');
    default:
      throw new WireError(`unknown Socket.IO packet type ${JSON.stringify(code)}`);
  }
}

// ---------------------------------------------------------------- one frame

/**
 * What one WebSocket text frame of a Socket.IO connection carries: an
 * Engine.IO control packet, or a Socket.IO packet inside an Engine.IO message.
 * The `type` names of the two layers do not overlap.
 */
export type Frame = Exclude<EnginePacket, { type: 'message' }> | SocketPacket;

export function encodeFrame(frame: Frame): string {
  switch (frame.type) {
    case 'connect':
    case 'disconnect':
    case 'event':
    case 'ack':
    case 'connect_error':
      return '4' + encodeSocketPacket(frame);
    default:
      return encodeEnginePacket(frame);
  }
}

/** Decodes a received text frame; throws WireError. The common case (`42[…]`) costs one JSON.parse. */
export function decodeFrame(text: string): Frame {
  if (text.charCodeAt(0) === 52 /* '4' */) {
    if (text.length === 1) throw new WireError('empty Socket.IO packet');
    return decodeSocketAt(text, 1);
  }
  return decodeEnginePacket(text) as Exclude<EnginePacket, { type: 'message' }>;
}

/**
 * The WebSocket URL of a Socket.IO server: `http://host:8080` →
 * `ws://host:8080/socket.io/?EIO=4&transport=websocket` (https → wss). `query`
 * is appended URL-encoded. String work only: k6 has no global URL.
 */
export function websocketUrl(baseUrl: string, path = '/socket.io/', query: Record<string, string> = {}): string {
  const match = /^(http|ws)(s?):\/\/([^/?#]+)/i.exec(baseUrl);
  if (match === null) throw new WireError(`${JSON.stringify(baseUrl)} is not an http(s) or ws(s) URL`);
  const params = ['EIO=' + ENGINE_IO_PROTOCOL, 'transport=websocket'];
  for (const key of Object.keys(query)) params.push(encodeURIComponent(key) + '=' + encodeURIComponent(query[key] as string));
  return 'ws' + match[2]!.toLowerCase() + '://' + match[3] + path + '?' + params.join('&');
}

// ---------------------------------------------------------------- helpers

function ackId(id: number): string {
  if (!Number.isSafeInteger(id) || id < 0) throw new WireError(`ack id ${id} is not a non-negative integer`);
  return String(id);
}

function stringifyArgs(args: readonly unknown[]): string {
  if (args.some(hasBinary)) throw new WireError('binary arguments (ArrayBuffer, typed arrays, Blob) are not supported');
  return JSON.stringify(args);
}

function hasBinary(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return true;
  if (typeof Blob !== 'undefined' && value instanceof Blob) return true;
  if (Array.isArray(value)) return value.some(hasBinary);
  // An object with toJSON (Date, …) is sent as what toJSON returns.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  return Object.keys(value).some((k) => hasBinary((value as Record<string, unknown>)[k]));
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new WireError(`${what}: invalid JSON`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return Object.prototype.toString.call(value) === '[object Object]';
}

function isNonNegativeNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
