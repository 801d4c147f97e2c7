import { createHash, randomBytes } from 'node:crypto';

/**
 * The client side of RFC 6455 WebSocket framing, for the benchmark's light
 * Socket.IO client (socketio-ws-client.ts): the upgrade request and the
 * check of its answer, a reader of the server's frames, and the masked
 * frames a client sends. No extensions (permessage-deflate is never offered).
 *
 * Why not `ws`: on a 2-core host shared with the servers it measures, the
 * client's CPU per received message is part of every latency figure. `ws`
 * delivers each message through two streams (the socket's Readable, its
 * Receiver's Writable) and an emitter, ~10 µs per message here; a reader
 * fed straight from `net`'s `onread` callback with a reused buffer does
 * the same work in a fraction of that (docs/benchmarks.md "The light client").
 */

export const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The server broke the framing protocol (or sent what this reader refuses, like a frame over the size limit). */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/** A fresh `Sec-WebSocket-Key`: 16 random bytes, base64. */
export const newWebSocketKey = (): string => randomBytes(16).toString('base64');

/** The `Sec-WebSocket-Accept` a server must answer to `key`. */
export const acceptFor = (key: string): string => createHash('sha1').update(key + GUID).digest('base64');

/** The HTTP/1.1 upgrade request for `ws://host/path`. */
export function upgradeRequest(host: string, pathAndQuery: string, key: string): string {
  return (
    `GET ${pathAndQuery} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`
  );
}

/**
 * Checks the server's answer to the upgrade (status line and headers, without the blank line):
 * throws FrameError unless it is `101` with the right accept key and no extension.
 */
export function checkUpgradeResponse(head: string, key: string): void {
  const lines = head.split('\r\n');
  const status = /^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '');
  if (!status) throw new FrameError(`not an HTTP response: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  if (status[1] !== '101') throw new FrameError(`Unexpected server response: ${status[1]}`);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  if ((headers.get('upgrade') ?? '').toLowerCase() !== 'websocket') throw new FrameError('the 101 response does not upgrade to websocket');
  if (headers.get('sec-websocket-accept') !== acceptFor(key)) throw new FrameError('wrong Sec-WebSocket-Accept');
  if (headers.has('sec-websocket-extensions')) throw new FrameError('the server chose an extension this client did not offer');
}

/** A masked client frame (clients must mask every frame, RFC 6455 §5.3). */
export function encodeClientFrame(opcode: number, payload: Buffer | string = ''): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const n = data.length;
  const headerLength = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + 4 + n);
  frame[0] = 0x80 | opcode;
  if (n < 126) {
    frame[1] = 0x80 | n;
  } else if (n < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(n), 2);
  }
  const mask = randomBytes(4);
  mask.copy(frame, headerLength);
  const start = headerLength + 4;
  for (let i = 0; i < n; i++) frame[start + i] = data[i]! ^ mask[i & 3]!;
  return frame;
}

/**
 * Reads the server's frames from the bytes of a connection, in whatever pieces they arrive.
 * `onMessage` gets every complete data message (text or binary, fragments joined) and every
 * control frame (ping, pong, close), in order. The payload handed over is only valid during the
 * call: `push` may be given a view on a buffer the caller reuses, and bytes of an unfinished frame
 * are copied before `push` returns. A protocol violation throws FrameError from `push`; the
 * reader is then unusable.
 */
export class FrameReader {
  private rest: Buffer | null = null;
  private fragments: Buffer[] | null = null;
  private fragmentOpcode = 0;
  private fragmentBytes = 0;

  constructor(
    private readonly onMessage: (opcode: number, payload: Buffer) => void,
    /** Largest message accepted, in bytes. @default 16 MiB */
    private readonly maxPayload = 16 * 1024 * 1024,
  ) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.rest !== null) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    let at = 0;
    const end = buf.length;
    while (end - at >= 2) {
      const b0 = buf[at]!;
      const b1 = buf[at + 1]!;
      if (b0 & 0x70) throw new FrameError('reserved bits set (no extension was negotiated)');
      if (b1 & 0x80) throw new FrameError('a server frame is masked');
      let length = b1 & 0x7f;
      let header = 2;
      if (length === 126) {
        if (end - at < 4) break;
        length = buf.readUInt16BE(at + 2);
        header = 4;
      } else if (length === 127) {
        if (end - at < 10) break;
        // Past 2^53 the number is inexact, but still over any limit: the check below catches it.
        length = Number(buf.readBigUInt64BE(at + 2));
        header = 10;
      }
      if (length > this.maxPayload) throw new FrameError(`a frame of ${length} bytes is over the ${this.maxPayload}-byte limit`);
      if (end - at < header + length) break;
      const payload = buf.subarray(at + header, at + header + length);
      at += header + length;
      this.frame(b0 & 0x80 ? true : false, b0 & 0x0f, payload);
    }
    // The caller's chunk may be its reused read buffer: keep a copy; a concatenation is ours already.
    if (at < end) this.rest = buf === chunk ? Buffer.from(buf.subarray(at)) : buf.subarray(at);
  }

  private frame(fin: boolean, opcode: number, payload: Buffer): void {
    if (opcode >= 0x8) {
      if (opcode !== OPCODE.close && opcode !== OPCODE.ping && opcode !== OPCODE.pong) throw new FrameError(`unknown control opcode ${opcode}`);
      if (!fin || payload.length > 125) throw new FrameError('a control frame is fragmented or longer than 125 bytes');
      this.onMessage(opcode, payload);
      return;
    }
    if (opcode === OPCODE.continuation) {
      if (this.fragments === null) throw new FrameError('a continuation frame without a message to continue');
      this.fragmentBytes += payload.length;
      if (this.fragmentBytes > this.maxPayload) throw new FrameError(`a message over the ${this.maxPayload}-byte limit`);
      this.fragments.push(Buffer.from(payload));
      if (fin) {
        const whole = Buffer.concat(this.fragments);
        this.fragments = null;
        this.onMessage(this.fragmentOpcode, whole);
      }
      return;
    }
    if (opcode !== OPCODE.text && opcode !== OPCODE.binary) throw new FrameError(`unknown data opcode ${opcode}`);
    if (this.fragments !== null) throw new FrameError('a new message before the fragmented one ended');
    if (fin) {
      this.onMessage(opcode, payload);
      return;
    }
    this.fragments = [Buffer.from(payload)];
    this.fragmentOpcode = opcode;
    this.fragmentBytes = payload.length;
  }
}
