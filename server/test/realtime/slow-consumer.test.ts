import type { Socket as NetSocket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, connectSocket, type TestSocket } from '../support/socket-client.ts';
import { startTestGateway, type TestGateway, type TransportName } from '../support/test-gateway.ts';

const FAMILY = '👨‍👩‍👧‍👦'; // 25 bytes of UTF-8 each: a 280-grapheme tweet is ~7 KB on the wire

/** The TCP socket under a websocket-only socket.io-client, to stop reading from it. */
function tcpOf(s: TestSocket): NetSocket {
  const transport = (s.io as unknown as { engine: { transport: { ws: { _socket: NetSocket } } } }).engine.transport;
  return transport.ws._socket;
}

for (const transport of ['uws', 'node'] as TransportName[]) {
  describe(`slow consumers on ${transport}`, () => {
    let t: TestGateway;
    const open: TestSocket[] = [];
    beforeAll(async () => {
      t = await startTestGateway('pglite', transport, { SOCKET_MAX_BUFFERED_BYTES: 65536, RATE_TWEETS_PER_USER: '100000/1h' });
    });
    afterAll(async () => {
      for (const s of open) s.close();
      await t?.close();
    });

    it('disconnects a socket that stops reading once its buffer passes the limit; others keep receiving', async () => {
      const author = await t.register('au');
      const slow = await t.register('sl');
      const healthy = await t.register('he');
      for (const u of [slow, healthy]) await t.api('PUT', `/v1/users/${author.handle}/follow`, { token: u.accessToken });
      const slowSocket = await connectSocket(t.url, slow.accessToken);
      const okSocket = await connectSocket(t.url, healthy.accessToken);
      open.push(slowSocket, okSocket);
      const received = collect(okSocket, 'tweet');
      tcpOf(slowSocket).pause(); // the client's app hangs: nothing is read any more

      const slowRoom = () => t.gw.sockets.io.of('/').adapter.rooms.get(`user:${slow.id}`)?.size ?? 0;
      expect(slowRoom()).toBe(1);
      const posted: string[] = [];
      // Push until the server gives up on the slow socket (a few MB fill the kernel buffers first).
      for (let batch = 0; batch < 100 && slowRoom() > 0; batch++) {
        const ids = await Promise.all(
          Array.from({ length: 10 }, async () => (await t.api('POST', '/v1/tweets', { token: author.accessToken, body: { text: FAMILY.repeat(280) } })).body.id as string),
        );
        posted.push(...ids);
        await received.next((e) => e.id === ids[ids.length - 1]);
      }
      expect(slowRoom()).toBe(0);
      const metrics = (await t.api('GET', '/metrics')).text;
      expect(metrics).toMatch(/flock_slow_consumer_disconnects_total 1\b/);
      // The healthy socket got every tweet and is still connected.
      for (const id of posted) await received.next((e) => e.id === id);
      expect(okSocket.connected).toBe(true);

      // Shutting down is not held up by the client that stopped reading.
      const started = Date.now();
      await t.gw.stop();
      expect(Date.now() - started).toBeLessThan(5000);
      // Filling the kernel's loopback buffers takes a few hundred 7 KB tweets: ~10 s on a quiet
      // machine, three times that on a busy one.
    }, 120_000);
  });
}
