import type { EventEmitter } from 'node:events';
import * as ws from 'ws';
import { describe, expect, it } from 'vitest';
import { acceptFor, checkUpgradeResponse, encodeClientFrame, FrameError, FrameReader, OPCODE, upgradeRequest } from '../lib/ws-frames.ts';

// The light client's WebSocket framing, checked against `ws` (the reference implementation):
// what ws's Sender writes as a server, FrameReader must read; what encodeClientFrame writes, ws's
// Receiver must accept as a server (it insists on masked client frames).

// ws exports its framing classes at run time; @types/ws does not declare them.
const { Receiver, Sender } = ws as unknown as {
  Receiver: new (o: { isServer: boolean }) => EventEmitter & { write(chunk: Buffer): boolean };
  Sender: { frame(data: Buffer, o: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[] };
};

/** Server frames as ws writes them: unmasked. */
function serverFrame(opcode: 'continuation' | 'text' | 'binary' | 'ping' | 'pong' | 'close', data: Buffer | string, fin = true): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  const op = OPCODE[opcode];
  return Buffer.concat(Sender.frame(payload, { fin, opcode: op, mask: false, readOnly: true, rsv1: false }));
}

function collect(): { reader: FrameReader; got: [number, string][] } {
  const got: [number, string][] = [];
  return { reader: new FrameReader((op, payload) => got.push([op, payload.toString()])), got };
}

describe('FrameReader', () => {
  it('reads every frame of one chunk, whatever the length encoding (7-bit, 16-bit, 64-bit)', () => {
    const { reader, got } = collect();
    const medium = 'm'.repeat(300);
    const large = 'L'.repeat(70_000);
    reader.push(Buffer.concat([serverFrame('text', '42["tweet",{"id":"1"}]'), serverFrame('text', medium), serverFrame('text', large), serverFrame('ping', 'p')]));
    expect(got.map(([op, s]) => [op, s.length])).toEqual([
      [OPCODE.text, 22],
      [OPCODE.text, 300],
      [OPCODE.text, 70_000],
      [OPCODE.ping, 1],
    ]);
    expect(got[2]![1]).toBe(large);
  });

  it('reads frames split at every possible byte, from a buffer the caller reuses', () => {
    const frames = Buffer.concat([serverFrame('text', 'é🐦'.repeat(50)), serverFrame('text', 'x'.repeat(200)), serverFrame('text', '2')]);
    for (let cut = 1; cut < frames.length; cut++) {
      const { reader, got } = collect();
      const scratch = Buffer.alloc(frames.length);
      // The caller's buffer is overwritten after each push, as net's onread does.
      frames.copy(scratch, 0, 0, cut);
      reader.push(scratch.subarray(0, cut));
      scratch.fill(0);
      frames.copy(scratch, 0, cut);
      reader.push(scratch.subarray(0, frames.length - cut));
      expect(got.map(([, s]) => s)).toEqual(['é🐦'.repeat(50), 'x'.repeat(200), '2']);
    }
  });

  it('joins a fragmented message, with a control frame in between', () => {
    const { reader, got } = collect();
    reader.push(Buffer.concat([serverFrame('text', 'hel', false), serverFrame('ping', ''), serverFrame('continuation', 'lo')]));
    expect(got).toEqual([
      [OPCODE.ping, ''],
      [OPCODE.text, 'hello'],
    ]);
  });

  it('refuses frames a server must not send', () => {
    const masked = encodeClientFrame(OPCODE.text, 'x');
    expect(() => collect().reader.push(masked)).toThrow(FrameError);
    const rsv = serverFrame('text', 'x');
    rsv[0] = rsv[0]! | 0x40;
    expect(() => collect().reader.push(rsv)).toThrow(/reserved bits/);
    expect(() => collect().reader.push(Buffer.from([0x83, 0x00]))).toThrow(/unknown data opcode/);
    expect(() => collect().reader.push(Buffer.from([0x80, 0x01, 0x41]))).toThrow(/continuation frame without/);
    expect(() => collect().reader.push(serverFrame('ping', 'x'.repeat(126)))).toThrow(/control frame/);
    const small = new FrameReader(() => {}, 100);
    expect(() => small.push(serverFrame('text', 'x'.repeat(101)))).toThrow(/over the 100-byte limit/);
  });
});

describe('encodeClientFrame', () => {
  it('writes masked frames that ws accepts as a server, for every length encoding', async () => {
    const texts = ['3', 'a'.repeat(125), 'b'.repeat(126), 'c'.repeat(65_535), 'd'.repeat(65_536), '40{"token":"é"}'];
    const receiver = new Receiver({ isServer: true });
    const got: string[] = [];
    receiver.on('message', (data: Buffer) => got.push(data.toString()));
    const errors: Error[] = [];
    receiver.on('error', (err: Error) => errors.push(err));
    for (const t of texts) receiver.write(encodeClientFrame(OPCODE.text, t));
    await new Promise((r) => setImmediate(r));
    expect(errors).toEqual([]);
    expect(got).toEqual(texts);
  });
});

describe('the upgrade', () => {
  it('asks for a websocket and checks the accept key', () => {
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    // RFC 6455 §1.3's own example.
    expect(acceptFor(key)).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(upgradeRequest('127.0.0.1:80', '/socket.io/?EIO=4&transport=websocket', key)).toMatch(/^GET \/socket\.io\/\?EIO=4&transport=websocket HTTP\/1\.1\r\nHost: 127\.0\.0\.1:80\r\n[\s\S]*Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n[\s\S]*\r\n\r\n$/);
    const ok = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
    expect(() => checkUpgradeResponse(ok, key)).not.toThrow();
    expect(() => checkUpgradeResponse(ok.replace('s3pP', 'AAAA'), key)).toThrow(/Sec-WebSocket-Accept/);
    expect(() => checkUpgradeResponse('HTTP/1.1 400 Bad Request\r\nContent-Length: 0', key)).toThrow(/Unexpected server response: 400/);
    expect(() => checkUpgradeResponse(`${ok}\r\nSec-WebSocket-Extensions: permessage-deflate`, key)).toThrow(/extension/);
  });
});
