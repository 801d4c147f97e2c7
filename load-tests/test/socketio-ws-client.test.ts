import { once } from 'node:events';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectError, LightSocket, type DisconnectReason } from '../lib/socketio-ws-client.ts';

// The light bench client against a real socket.io 4.8 server (what the fanout baseline runs).

describe('LightSocket against socket.io 4.8', () => {
  let http: HttpServer;
  let io: Server;
  let url: string;

  beforeAll(async () => {
    http = createServer();
    io = new Server(http, { pingInterval: 200, pingTimeout: 2000 });
    io.use((socket, next) => {
      if (socket.handshake.auth.token === 'good') return next();
      next(Object.assign(new Error('unauthorized'), { data: { code: 'FLOCK_ERR_UNAUTHORIZED' } }));
    });
    io.on('connection', (socket) => {
      void socket.join('room');
      socket.on('echo', (v: unknown, ack: (r: unknown) => void) => ack({ ok: true, v }));
      socket.on('kick-me', () => socket.disconnect(true));
      socket.on('ask', () => socket.emit('question', 6, (answer: unknown) => socket.emit('answer', answer)));
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await io.close();
  });

  const next = (socket: LightSocket, event: string) => new Promise<unknown[]>((resolve) => socket.on(event, (...args) => resolve(args)));
  const disconnected = (socket: LightSocket) => new Promise<DisconnectReason>((resolve) => socket.onceDisconnected(resolve));

  it('connects with auth, receives room broadcasts, emits with acks and answers the server’s acks', async () => {
    const socket = await LightSocket.connect({ url, auth: { token: 'good' } });
    expect(socket.connected).toBe(true);
    expect(io.of('/').sockets.get(socket.id)?.handshake.auth).toEqual({ token: 'good' });

    const tweet = next(socket, 'tweet');
    io.to('room').emit('tweet', { id: '1', tweet: { text: 'é 🐦' } });
    expect(await tweet).toEqual([{ id: '1', tweet: { text: 'é 🐦' } }]);

    const acked = await new Promise<unknown[]>((resolve) => socket.emit('echo', { a: 1 }, (...args: unknown[]) => resolve(args)));
    expect(acked).toEqual([{ ok: true, v: { a: 1 } }]);

    socket.on('question', (n, ack) => (ack as (v: unknown) => void)((n as number) * 7));
    const answer = next(socket, 'answer');
    socket.emit('ask');
    expect(await answer).toEqual([42]);

    // The server pings every 200 ms and gives up after 2 s of silence: three pongs arrive and it still holds the socket.
    let pongs = 0;
    await new Promise<void>((resolve) =>
      io.of('/').sockets.get(socket.id)!.conn.on('packet', (p: { type: string }) => p.type === 'pong' && ++pongs === 3 && resolve()),
    );
    expect(io.of('/').sockets.has(socket.id)).toBe(true);

    const gone = new Promise<string>((resolve) => io.of('/').sockets.get(socket.id)!.once('disconnect', resolve));
    socket.close();
    expect(await gone).toBe('client namespace disconnect');
    expect(socket.connected).toBe(false);
  });

  it('hands over event ids without parsing (onId), in order, for many events arriving in one read, and other shapes to on()', async () => {
    const socket = await LightSocket.connect({ url, auth: { token: 'good' } });
    const ids: string[] = [];
    const parsed: unknown[] = [];
    const others: unknown[] = [];
    socket.onId('tweet', (id, args) => {
      ids.push(id);
      if (id === '7') parsed.push(...args());
    });
    socket.on('tweet', (...args) => others.push(args));
    const big = 'x'.repeat(100_000);
    const all = new Promise<void>((resolve) => socket.on('done', () => resolve()));
    // Emitted in one synchronous run: they leave in one write and arrive in a few reads, the 100 KB one split.
    for (let i = 0; i < 500; i++) io.to('room').emit('tweet', { id: String(i), tweet: { text: i === 7 ? big : 'é' } });
    io.to('room').emit('tweet', { other: true });
    io.to('room').emit('done');
    await all;
    expect(ids).toEqual(Array.from({ length: 500 }, (_, i) => String(i)));
    expect(parsed).toEqual([{ id: '7', tweet: { text: big } }]);
    expect(others).toEqual([[{ other: true }]]);
    socket.close();
  });

  it('rejects a refused connect with ConnectError carrying the middleware data', async () => {
    const err = await LightSocket.connect({ url, auth: { token: 'bad' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect(err).toMatchObject({ message: 'unauthorized', data: { code: 'FLOCK_ERR_UNAUTHORIZED' } });
  });

  it('reports the server’s disconnect and a dropped transport', async () => {
    const a = await LightSocket.connect({ url, auth: { token: 'good' } });
    const reasonA = disconnected(a);
    a.emit('kick-me');
    expect(await reasonA).toBe('io server disconnect');

    const b = await LightSocket.connect({ url, auth: { token: 'good' } });
    const reasonB = disconnected(b);
    const raw = io.of('/').sockets.get(b.id)!.conn as unknown as { transport: { socket: { terminate(): void } } };
    raw.transport.socket.terminate();
    expect(await reasonB).toBe('transport close');
  });

  it('fails clearly when nothing listens or the server never answers', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    // A plain HTTP server that never upgrades: the handshake times out.
    await expect(LightSocket.connect({ url: `http://127.0.0.1:${port}`, timeoutMs: 300 })).rejects.toThrow(/not connected after 300 ms|Unexpected server response/);
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(LightSocket.connect({ url: `http://127.0.0.1:${port}` })).rejects.toThrow(/ECONNREFUSED/);
  });
});
