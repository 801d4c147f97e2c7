import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodePacket, encodePacket, decodePayload, type Packet as EnginePacketRef } from 'engine.io-parser';
import fc from 'fast-check';
import { Server } from 'socket.io';
import { Decoder, Encoder, PacketType, type Packet as SocketPacketRef } from 'socket.io-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  decodeEnginePacket,
  decodeFrame,
  decodePollingPayload,
  decodeSocketPacket,
  encodeEnginePacket,
  encodeFrame,
  encodePollingPayload,
  encodeSocketPacket,
  websocketUrl,
  WireError,
  type EnginePacket,
  type Frame,
  type SocketPacket,
} from '../lib/socketio-wire.ts';

// The reference implementations are the parsers socket.io 4.8 itself runs.

function refEncodeEngine(p: EnginePacketRef): string {
  let out: string | undefined;
  encodePacket(p, false, (encoded) => (out = encoded as string));
  return out!;
}

function refEncodeSocket(p: SocketPacketRef): string {
  const parts = new Encoder().encode(p);
  expect(parts).toHaveLength(1);
  return parts[0] as string;
}

/** socket.io-parser's decode, or the Error it throws. */
function refDecodeSocket(text: string): SocketPacketRef | Error {
  const decoder = new Decoder();
  let out: SocketPacketRef | undefined;
  decoder.on('decoded', (p: SocketPacketRef) => (out = p));
  try {
    decoder.add(text);
  } catch (err) {
    return err as Error;
  }
  return out ?? new Error('no packet (binary packet waiting for attachments)');
}

/** Our packet in socket.io-parser's shape. */
function toRef(p: SocketPacket): SocketPacketRef {
  switch (p.type) {
    case 'connect':
      return p.data === undefined ? { type: PacketType.CONNECT, nsp: p.nsp } : { type: PacketType.CONNECT, nsp: p.nsp, data: p.data };
    case 'disconnect':
      return { type: PacketType.DISCONNECT, nsp: p.nsp };
    case 'event':
      return p.id === undefined
        ? { type: PacketType.EVENT, nsp: p.nsp, data: [p.event, ...p.args] }
        : { type: PacketType.EVENT, nsp: p.nsp, id: p.id, data: [p.event, ...p.args] };
    case 'ack':
      return { type: PacketType.ACK, nsp: p.nsp, id: p.id, data: p.args };
    case 'connect_error':
      return {
        type: PacketType.CONNECT_ERROR,
        nsp: p.nsp,
        data: p.data === undefined ? { message: p.message } : { message: p.message, data: p.data },
      };
  }
}

const SOCKET_CASES: SocketPacket[] = [
  { type: 'connect', nsp: '/' },
  { type: 'connect', nsp: '/', data: { token: 'eyJhbGciOiJFZERTQSJ9.e30.sig' } },
  { type: 'connect', nsp: '/admin', data: { token: 'x', nested: { a: [1, 2] } } },
  { type: 'connect', nsp: '/', data: { sid: 'LwzXjWl8Y1Yx2XkUAAAB', pid: 'p' } },
  { type: 'disconnect', nsp: '/' },
  { type: 'disconnect', nsp: '/admin' },
  { type: 'event', nsp: '/', event: 'tweet', args: [{ id: '7301', tweet: { text: 'héllo 🐦, "quoted"\n', n: 1.5 } }] },
  { type: 'event', nsp: '/', event: 'sync', args: [{ notificationsAfter: '12' }], id: 0 },
  { type: 'event', nsp: '/', event: 'sync', args: [], id: 4_294_967_296 },
  { type: 'event', nsp: '/chat', event: 'msg', args: ['a', 2, null, true, [3]], id: 17 },
  // Args that look like ids or namespaces must not confuse the framing.
  { type: 'event', nsp: '/', event: '123', args: ['/admin,', '42'] },
  { type: 'event', nsp: '/', event: 'sep', args: ['\u001e and , and 4'] },
  { type: 'ack', nsp: '/', id: 1, args: [{ ok: true, notifications: { items: [], next: null } }] },
  { type: 'ack', nsp: '/', id: 99, args: [] },
  { type: 'ack', nsp: '/admin', id: 3, args: ['x', 1] },
  { type: 'connect_error', nsp: '/', message: 'unauthorized', data: { code: 'FLOCK_ERR_UNAUTHORIZED' } },
  { type: 'connect_error', nsp: '/admin', message: 'Invalid namespace' },
];

describe('Socket.IO packets against socket.io-parser 4.2', () => {
  it.each(SOCKET_CASES.map((p) => [encodeSocketPacket(p), p] as const))('%s', (encoded, packet) => {
    // Same string as the reference encoder, each way decodes to the other's packet.
    expect(encoded).toBe(refEncodeSocket(toRef(packet)));
    expect(refDecodeSocket(encoded)).toEqual(toRef(packet));
    expect(decodeSocketPacket(encoded)).toEqual(packet);
    // Inside an Engine.IO message, as on the wire.
    expect(encodeFrame(packet)).toBe(refEncodeEngine({ type: 'message', data: encoded }));
    expect(decodeFrame('4' + encoded)).toEqual(packet);
  });

  const nsp = fc.constantFrom('/', '/admin', '/a-b_c');
  const json = fc.jsonValue() as fc.Arbitrary<unknown>;
  const name = fc.string({ minLength: 1 }).filter((s) => !['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'].includes(s));
  const id = fc.option(fc.nat(), { nil: undefined });
  const packet: fc.Arbitrary<SocketPacket> = fc.oneof(
    fc.record({ type: fc.constant('event' as const), nsp, event: name, args: fc.array(json, { maxLength: 4 }), id }).map((p) => {
      if (p.id === undefined) delete p.id;
      return p;
    }),
    fc.record({ type: fc.constant('ack' as const), nsp, id: fc.nat(), args: fc.array(json, { maxLength: 4 }) }),
    fc.record({ type: fc.constant('connect' as const), nsp, data: fc.dictionary(fc.string(), json) }),
  );

  it('agrees with the reference on random events, acks and connects, both ways', () => {
    fc.assert(
      fc.property(packet, (p) => {
        const encoded = encodeSocketPacket(p);
        expect(encoded).toBe(refEncodeSocket(toRef(p)));
        // JSON drops -0 and the like: compare through the reference's own decoding.
        const ref = refDecodeSocket(encoded);
        expect(ref).not.toBeInstanceOf(Error);
        expect(toRef(decodeSocketPacket(encoded))).toEqual(ref);
      }),
      { numRuns: 500 },
    );
  });

  it('decodes the reference encoding of packets it did not produce (old-style string connect_error)', () => {
    expect(decodeSocketPacket('4"Not authorized"')).toEqual({ type: 'connect_error', nsp: '/', message: 'Not authorized' });
    expect(refDecodeSocket('4"Not authorized"')).toEqual({ type: PacketType.CONNECT_ERROR, nsp: '/', data: 'Not authorized' });
    expect(decodeSocketPacket('1/admin')).toEqual({ type: 'disconnect', nsp: '/admin' });
  });
});

describe('Socket.IO packets it refuses', () => {
  const refusedByBoth: [string, RegExp][] = [
    ['7["a"]', /unknown Socket.IO packet type "7"/],
    ['x', /unknown/],
    ['2["a"', /invalid JSON/],
    ['2["a"]junk', /invalid JSON/],
    ['2{"a":1}', /not \[name, \.\.\.args\]/],
    ['2["connect"]', /reserved/],
    ['2["disconnect",1]', /reserved/],
    ['3[1]x', /invalid JSON/],
    ['3{}', /ack without an id/],
    ['0[1]', /not a JSON object/],
    ['0"token"', /not a JSON object/],
    ['1{}', /disconnect with a payload/],
    ['4[]', /not \{message, data\?\}/],
    ['51-["a",{"_placeholder":true,"num":0}]', /binary Socket.IO packets are not supported/],
    ['61-7[{"_placeholder":true,"num":0}]', /binary/],
  ];
  it.each(refusedByBoth)('%j', (text, message) => {
    expect(() => decodeSocketPacket(text)).toThrow(WireError);
    expect(() => decodeSocketPacket(text)).toThrow(message);
    // The reference refuses it too, or (binary) waits for attachments this module cannot take.
    expect(refDecodeSocket(text)).toBeInstanceOf(Error);
  });

  // Stricter than the reference, as documented in the module: these carry nothing usable.
  const refusedHereOnly: [string, RegExp][] = [
    ['', /empty/], // socket.io-parser reads Number('') as a connect
    ['2', /not \[name, \.\.\.args\]/],
    ['2[]', /not \[name, \.\.\.args\]/],
    ['2[7,"x"]', /only string event names/],
    ['31', /payload is not a list/],
    ['3', /ack without an id/],
    ['0{}x', /invalid JSON/],
  ];
  it.each(refusedHereOnly)('%j (stricter than socket.io-parser)', (text, message) => {
    expect(() => decodeSocketPacket(text)).toThrow(message);
  });

  it('refuses to encode what it cannot frame', () => {
    const event = (args: unknown[], extra: Partial<Extract<SocketPacket, { type: 'event' }>> = {}): SocketPacket => ({
      type: 'event',
      nsp: '/',
      event: 'e',
      args,
      ...extra,
    });
    expect(() => encodeSocketPacket(event([new Uint8Array(2)]))).toThrow(/binary arguments/);
    expect(() => encodeSocketPacket(event([{ deep: [new ArrayBuffer(1)] }]))).toThrow(/binary arguments/);
    expect(() => encodeSocketPacket(event([], { id: -1 }))).toThrow(/not a non-negative integer/);
    expect(() => encodeSocketPacket(event([], { id: 1.5 }))).toThrow(/not a non-negative integer/);
    expect(() => encodeSocketPacket(event([], { event: 'disconnect' }))).toThrow(/reserved/);
    expect(() => encodeSocketPacket(event([], { nsp: 'admin' }))).toThrow(/must start with "\/"/);
    expect(() => encodeSocketPacket(event([], { nsp: '/a,b' }))).toThrow(/hold no ","/);
    // A Date is sent as its ISO string, as JSON.stringify does: not binary.
    expect(encodeSocketPacket(event([new Date(0)]))).toBe('2["e","1970-01-01T00:00:00.000Z"]');
  });
});

describe('Engine.IO packets against engine.io-parser 5.2', () => {
  const open = { sid: 'lv_VI97HAXpY6yYWAAAC', upgrades: ['websocket'], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1000000 };
  const cases: [EnginePacket, EnginePacketRef][] = [
    [{ type: 'open', open }, { type: 'open', data: JSON.stringify(open) }],
    [{ type: 'close' }, { type: 'close' }],
    [{ type: 'ping' }, { type: 'ping' }],
    [{ type: 'ping', data: 'probe' }, { type: 'ping', data: 'probe' }],
    [{ type: 'pong' }, { type: 'pong' }],
    [{ type: 'pong', data: 'probe' }, { type: 'pong', data: 'probe' }],
    [{ type: 'message', data: '2["tweet",{}]' }, { type: 'message', data: '2["tweet",{}]' }],
    [{ type: 'upgrade' }, { type: 'upgrade' }],
    [{ type: 'noop' }, { type: 'noop' }],
  ];
  it.each(cases.map(([ours, ref]) => [encodeEnginePacket(ours), ours, ref] as const))('%s', (encoded, ours, ref) => {
    expect(encoded).toBe(refEncodeEngine(ref));
    expect(decodePacket(encoded)).toEqual(ref);
    expect(decodeEnginePacket(encoded)).toEqual(ours);
  });

  it('reads the open packet of an engine.io 4 server (no maxPayload)', () => {
    expect(decodeEnginePacket('0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":5000}')).toEqual({
      type: 'open',
      open: { sid: 'a', upgrades: [], pingInterval: 25000, pingTimeout: 5000 },
    });
  });

  it('frames long-polling bodies like the reference', () => {
    const packets: EnginePacket[] = [{ type: 'message', data: '0{"token":"t"}' }, { type: 'ping' }, { type: 'message', data: '2["a","\u00e9"]' }];
    const body = encodePollingPayload(packets);
    expect(body).toBe('40{"token":"t"}\u001e2\u001e42["a","é"]');
    expect(decodePayload(body)).toEqual(packets);
    expect(decodePollingPayload(body)).toEqual(packets);
  });

  it.each([
    ['', /empty Engine.IO packet/],
    ['9', /unknown Engine.IO packet type "9"/],
    ['bAQID', /binary Engine.IO packets/],
    ['0', /invalid JSON/],
    ['0{"sid":"a"}', /upgrades/],
    ['0{"sid":"","upgrades":[],"pingInterval":1,"pingTimeout":1}', /no sid/],
    ['0{"sid":"a","upgrades":[],"pingInterval":"25000","pingTimeout":1}', /pingInterval/],
    ['0{"sid":"a","upgrades":[],"pingInterval":1,"pingTimeout":1,"maxPayload":-1}', /maxPayload/],
    ['6x', /noop packet with a payload/],
  ])('refuses %j', (text, message) => {
    expect(() => decodeEnginePacket(text)).toThrow(WireError);
    expect(() => decodeEnginePacket(text)).toThrow(message);
  });
});

describe('websocketUrl', () => {
  it('turns a server base URL into the Engine.IO websocket endpoint', () => {
    expect(websocketUrl('http://127.0.0.1:8080')).toBe('ws://127.0.0.1:8080/socket.io/?EIO=4&transport=websocket');
    expect(websocketUrl('HTTPS://flock.example/ignored?x=1', '/rt/', { a: 'b c' })).toBe(
      'wss://flock.example/rt/?EIO=4&transport=websocket&a=b%20c',
    );
    expect(() => websocketUrl('flock.example')).toThrow(WireError);
  });
});

describe('a conversation with a real socket.io 4.8 server over a bare WebSocket', () => {
  let io: Server;
  let base: string;

  beforeAll(async () => {
    const http = createServer();
    io = new Server(http, { pingInterval: 300, pingTimeout: 5000 });
    io.use((socket, next) => {
      const token: unknown = socket.handshake.auth.token;
      if (token === 'good') return next();
      next(Object.assign(new Error('unauthorized'), { data: { code: 'FLOCK_ERR_UNAUTHORIZED' } }));
    });
    io.on('connection', (socket) => {
      socket.emit('hello', { to: socket.id, n: 1 });
      socket.on('echo', (value: unknown, ack: (v: unknown) => void) => ack({ ok: true, value }));
      socket.on('ask-back', () => socket.emit('question', 'why?', (answer: unknown) => socket.emit('answered', answer)));
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await io.close();
  });

  /** A WebSocket whose decoded frames arrive in a queue; pings are answered here. */
  async function open(): Promise<{ ws: WebSocket; next: () => Promise<Frame>; send: (f: Frame) => void; pings: () => number }> {
    const ws = new WebSocket(websocketUrl(base));
    const queue: Frame[] = [];
    const waiters: ((f: Frame) => void)[] = [];
    let pings = 0;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      expect(isBinary).toBe(false);
      const frame = decodeFrame(data.toString());
      if (frame.type === 'ping') {
        pings++;
        ws.send(encodeFrame({ type: 'pong' }));
        return;
      }
      const waiter = waiters.shift();
      if (waiter) waiter(frame);
      else queue.push(frame);
    });
    await once(ws, 'open');
    return {
      ws,
      next: () => {
        const queued = queue.shift();
        return queued ? Promise.resolve(queued) : new Promise((resolve) => waiters.push(resolve));
      },
      send: (f) => ws.send(encodeFrame(f)),
      pings: () => pings,
    };
  }

  it('handshakes, connects with auth, exchanges events and acks both ways, and keeps the connection alive with pongs', async () => {
    const c = await open();
    const opened = await c.next();
    expect(opened).toMatchObject({ type: 'open', open: { upgrades: [], pingInterval: 300, pingTimeout: 5000, maxPayload: 1e6 } });

    c.send({ type: 'connect', nsp: '/', data: { token: 'good' } });
    const connected = await c.next();
    expect(connected).toMatchObject({ type: 'connect', nsp: '/', data: { sid: expect.any(String) } });
    const sid = (connected as { data: { sid: string } }).data.sid;
    expect(await c.next()).toEqual({ type: 'event', nsp: '/', event: 'hello', args: [{ to: sid, n: 1 }] });

    c.send({ type: 'event', nsp: '/', event: 'echo', args: [{ text: 'é 🐦' }], id: 41 });
    expect(await c.next()).toEqual({ type: 'ack', nsp: '/', id: 41, args: [{ ok: true, value: { text: 'é 🐦' } }] });

    // The server asks with an ack id; our ack reaches its callback.
    c.send({ type: 'event', nsp: '/', event: 'ask-back', args: [] });
    const question = await c.next();
    expect(question).toMatchObject({ type: 'event', event: 'question', args: ['why?'], id: expect.any(Number) });
    c.send({ type: 'ack', nsp: '/', id: (question as { id: number }).id, args: ['because'] });
    expect(await c.next()).toEqual({ type: 'event', nsp: '/', event: 'answered', args: ['because'] });

    // Several ping intervals (300 ms) later the server still holds the socket: the pongs count.
    while (c.pings() < 3) await new Promise((r) => setTimeout(r, 100));
    expect(io.of('/').sockets.has(sid)).toBe(true);

    c.send({ type: 'disconnect', nsp: '/' });
    await new Promise<void>((resolve) => {
      const check = () => (io.of('/').sockets.has(sid) ? setTimeout(check, 20) : resolve());
      check();
    });
    c.ws.close();
  });

  it('receives connect_error with the middleware error data', async () => {
    const c = await open();
    await c.next();
    c.send({ type: 'connect', nsp: '/', data: { token: 'bad' } });
    expect(await c.next()).toEqual({
      type: 'connect_error',
      nsp: '/',
      message: 'unauthorized',
      data: { code: 'FLOCK_ERR_UNAUTHORIZED' },
    });
    c.send({ type: 'connect', nsp: '/nowhere' });
    expect(await c.next()).toEqual({ type: 'connect_error', nsp: '/nowhere', message: 'Invalid namespace' });
    c.ws.close();
  });
});
