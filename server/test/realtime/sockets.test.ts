import { DISCONNECT_CODES } from '@flock/client/protocol';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pollingConnections } from '../../src/realtime/uws-fast-publish.ts';
import { collect, connectSocket, serverClosed, type TestSocket } from '../support/socket-client.ts';
import { expiredAccessToken } from '../support/tokens.ts';
import { startTestGateway, type TestGateway, type TransportName } from '../support/test-gateway.ts';

for (const transport of ['uws', 'node'] as TransportName[]) {
  describe(`sockets on ${transport} (one node)`, () => {
    let t: TestGateway;
    const open: TestSocket[] = [];
    const connect = async (token: string | undefined, transports?: ('websocket' | 'polling')[]) => {
      const s = await connectSocket(t.url, token, { transports });
      open.push(s);
      return s;
    };
    const post = async (token: string, text: string) => (await t.api('POST', '/v1/tweets', { token, body: { text } })).body;

    beforeAll(async () => {
      // Threshold 3: authors with 3+ followers get an author room; smaller ones push into user rooms.
      t = await startTestGateway('pglite', transport, { LIVE_ROOM_THRESHOLD: 3, SOCKET_EVENTS_PER_SECOND: 5 });
    });
    afterAll(async () => {
      for (const s of open) s.close();
      await t?.close();
    });

    it('refuses a handshake without a valid token, telling expired tokens apart', async () => {
      const missing = await connectSocket(t.url, undefined).catch((e: { data?: { code?: string } }) => e);
      expect((missing as { data: { code: string } }).data.code).toBe('FLOCK_ERR_UNAUTHORIZED');
      const forged = await connectSocket(t.url, 'not.a.token').catch((e: unknown) => e);
      expect((forged as { data: { code: string } }).data.code).toBe('FLOCK_ERR_UNAUTHORIZED');
      const u = await t.register('exp');
      const expired = await expiredAccessToken((sql) => t.gw.db.query(sql), u);
      const e = await connectSocket(t.url, expired).catch((err: unknown) => err);
      expect((e as { data: { code: string } }).data.code).toBe('FLOCK_ERR_TOKEN_EXPIRED');
    });

    it('pushes a small author\'s tweets and deletions to followers and the author, not to strangers, on both transports', async () => {
      const author = await t.register('sa');
      const fan = await t.register('sf');
      const stranger = await t.register('ss');
      await t.api('PUT', `/v1/users/${author.handle}/follow`, { token: fan.accessToken });
      const fanWs = collect(await connect(fan.accessToken), 'tweet');
      const fanPolling = await connect(fan.accessToken, ['polling']);
      const fanPoll = collect(fanPolling, 'tweet');
      const fanDeleted = collect(fanPolling, 'tweet:deleted');
      const own = collect(await connect(author.accessToken), 'tweet');
      const strange = collect(await connect(stranger.accessToken), 'tweet');

      const tw = await post(author.accessToken, 'live hello');
      for (const c of [fanWs, fanPoll, own]) {
        const e = await c.next((x) => x.id === tw.id);
        expect(e.tweet).toEqual(tw);
      }
      await t.api('DELETE', `/v1/tweets/${tw.id}`, { token: author.accessToken });
      const del = await fanDeleted.next();
      expect(del).toEqual({ id: `deleted:${tw.id}`, tweetId: tw.id, authorId: author.id });
      // The stranger got nothing (the author's own tweet arrived after everything above was sent).
      await own.next((x) => x.id === tw.id);
      expect(strange.items).toEqual([]);
    });

    it('uses an author room for large authors, and a follow or unfollow takes effect on live sockets', async () => {
      const star = await t.register('st');
      const fans = await Promise.all([t.register('f1'), t.register('f2'), t.register('f3')]);
      for (const f of fans.slice(0, 3)) await t.api('PUT', `/v1/users/${star.handle}/follow`, { token: f.accessToken });
      const late = await t.register('lt');
      const lateSocket = await connect(late.accessToken);
      const lateTweets = collect(lateSocket, 'tweet');
      const fanTweets = collect(await connect(fans[0]!.accessToken), 'tweet');

      const first = await post(star.accessToken, 'to my room');
      await fanTweets.next((x) => x.id === first.id);
      // Follow over HTTP while connected: the next tweet arrives without reconnecting.
      await t.api('PUT', `/v1/users/${star.handle}/follow`, { token: late.accessToken });
      const second = await post(star.accessToken, 'welcome');
      await lateTweets.next((x) => x.id === second.id);
      expect(lateTweets.items.map((x) => x.id)).not.toContain(first.id);
      // Unfollow: no more pushes.
      await t.api('DELETE', `/v1/users/${star.handle}/follow`, { token: late.accessToken });
      const third = await post(star.accessToken, 'bye');
      await fanTweets.next((x) => x.id === third.id);
      expect(lateTweets.items.map((x) => x.id)).not.toContain(third.id);
      const rooms = t.gw.sockets.io.of('/').adapter.rooms;
      expect(rooms.get(`author:${star.id}`)?.size).toBe(1); // fans[0]'s socket; small authors have no room members
      // A socket holds its user room and the rooms of the large accounts it follows, nothing more.
      const fanSocket = [...t.gw.sockets.io.of('/').sockets.values()].find((s) => s.data.userId === fans[0]!.id)!;
      expect([...fanSocket.rooms].sort()).toEqual([fanSocket.id, `author:${star.id}`, `user:${fans[0]!.id}`].sort());
    });

    // Only uWS has native pub/sub (the node:http transport broadcasts through each socket).
    if (transport === 'uws') it('publishes a room broadcast without walking the room while no socket polls, and still reaches a polling socket', async () => {
      const star = await t.register('fp');
      const fans = await Promise.all([t.register('fp1'), t.register('fp2'), t.register('fp3')]);
      for (const f of fans) await t.api('PUT', `/v1/users/${star.handle}/follow`, { token: f.accessToken });
      const io = t.gw.sockets.io;
      // Earlier tests' long-polling sockets would keep the walk on.
      for (const s of open) if (s.io.engine?.transport.name === 'polling') s.close();
      await vi.waitFor(() => expect(pollingConnections(io)).toBe(0));
      const adapter = io.of('/').adapter;
      // `apply` (the walk over a room's sockets) is not in the adapter's public typings.
      const walks = vi.spyOn(adapter as unknown as { apply: (...args: unknown[]) => void }, 'apply');
      try {
        const polling = await connect(fans[0]!.accessToken, ['polling']);
        const polled = collect(polling, 'tweet');
        const ws = collect(await connect(fans[1]!.accessToken), 'tweet');
        expect(pollingConnections(io)).toBe(1);
        walks.mockClear();
        const first = await post(star.accessToken, 'to pollers too');
        await polled.next((x) => x.id === first.id);
        await ws.next((x) => x.id === first.id);
        expect(walks).toHaveBeenCalled(); // socket.io's own broadcast, which finds the polling socket

        const gone = new Promise<void>((resolve) => io.of('/').sockets.get(polling.id!)?.once('disconnect', () => resolve()));
        polling.close();
        await gone;
        await vi.waitFor(() => expect(pollingConnections(io)).toBe(0));
        walks.mockClear();
        const second = await post(star.accessToken, 'websocket only');
        await ws.next((x) => x.id === second.id);
        expect(walks).not.toHaveBeenCalled();
      } finally {
        walks.mockRestore();
      }
    });

    it('pushes notifications to the user and answers sync with what was missed', async () => {
      const u = await t.register('nu');
      const actor = await t.register('na');
      const sock = await connect(u.accessToken);
      const notes = collect(sock, 'notification');
      await t.api('PUT', `/v1/users/${u.handle}/follow`, { token: actor.accessToken });
      const n1 = await notes.next();
      expect(n1.notification).toMatchObject({ kind: 'follow', actor: { id: actor.id } });
      expect(n1.id).toBe(n1.notification.id);

      sock.disconnect();
      await t.api('PUT', `/v1/users/${actor.handle}/follow`, { token: u.accessToken });
      const missed = await post(actor.accessToken, `while you were away @${u.handle}`);
      const back = await connect(u.accessToken);
      const res = await back.emitWithAck('sync', { notificationsAfter: n1.id, timelineSinceId: '1' });
      expect(res.ok).toBe(true);
      if (!res.ok) return;
      // sync overlaps SYNC_OVERLAP_MS before the cursor, so the follow already seen comes again; the client drops it by id.
      expect(res.notifications.items.map((n) => n.kind)).toEqual(['follow', 'mention']);
      expect(res.notifications.items[0]!.id).toBe(n1.id);
      expect(res.timeline.items.map((x) => x.id)).toEqual([missed.id]);
      const bad = await back.emitWithAck('sync', { notificationsAfter: 'abc' } as never);
      expect(bad).toMatchObject({ ok: false, error: { code: 'FLOCK_ERR_VALIDATION' } });
    });

    it('answers unknown events with an ack error, rate-limits chatty sockets, and lets nobody join rooms', async () => {
      const u = await t.register('bad');
      const s = await connect(u.accessToken);
      const unknown = await (s as unknown as { emitWithAck(e: string, a: unknown): Promise<unknown> }).emitWithAck('join', 'user:1');
      expect(unknown).toMatchObject({ ok: false, error: { code: 'FLOCK_ERR_VALIDATION' } });
      const rooms = t.gw.sockets.io.of('/').adapter.rooms;
      expect(rooms.get('user:1')).toBeUndefined();
      const results = await Promise.all(Array.from({ length: 20 }, () => s.emitWithAck('sync', {})));
      const limited = results.filter((r) => !r.ok && r.error.code === 'FLOCK_ERR_RATE_LIMITED');
      expect(limited.length).toBeGreaterThan(0);
      expect(results.filter((r) => r.ok).length).toBeGreaterThanOrEqual(5);
      expect(s.connected).toBe(true);
    });

    it('closes a socket that sends an oversized message', async () => {
      const u = await t.register('big');
      const s = await connect(u.accessToken);
      const closed = serverClosed(s);
      s.emit('sync', { notificationsAfter: '1'.repeat(20 * 1024) } as never, () => {});
      const { reason } = await closed;
      expect(reason).toMatch(/transport (close|error)/);
      expect((await t.api('GET', '/healthz')).status).toBe(200);
    });

    it('logout disconnects that session\'s sockets with a terminal code; other sessions stay', async () => {
      const u = await t.register('lo');
      const other = await t.api('POST', '/v1/auth/login', { body: { handle: u.handle, password: u.password } });
      const a = await connect(u.accessToken);
      const b = await connect(other.body.accessToken);
      const closed = serverClosed(a);
      await t.api('POST', '/v1/auth/logout', { token: u.accessToken });
      const { notice, reason } = await closed;
      expect(reason).toBe('io server disconnect');
      expect(notice).toEqual({ code: DISCONNECT_CODES.LOGGED_OUT, reason: 'logged out', reconnect: false });
      expect(b.connected).toBe(true);
      const again = await connectSocket(t.url, u.accessToken).catch((e: unknown) => e);
      expect((again as { data: { code: string } }).data.code).toBe('FLOCK_ERR_UNAUTHORIZED');
    });

    it('account deletion disconnects every socket of the user', async () => {
      const u = await t.register('gone');
      const s = await connect(u.accessToken);
      const closed = serverClosed(s);
      await t.api('DELETE', '/v1/users/me', { token: u.accessToken });
      expect((await closed).notice?.code).toBe(DISCONNECT_CODES.ACCOUNT_DELETED);
    });

    it('reports sockets and broadcasts in /metrics', async () => {
      const m = (await t.api('GET', '/metrics')).text;
      expect(m).toMatch(/flock_sockets_connected \d+/);
      expect(m).toMatch(/flock_socket_broadcasts_total\{event="tweet"\} [1-9]/);
      expect(m).toMatch(/flock_delivery_latency_seconds_count [1-9]/);
    });
  });
}

describe('drain', () => {
  it('tells connected sockets to reconnect elsewhere when the node stops', async () => {
    const t = await startTestGateway('pglite', 'uws');
    const u = await t.register('dr');
    const s = await connectSocket(t.url, u.accessToken);
    const closed = serverClosed(s);
    await t.close();
    const { notice } = await closed;
    expect(notice).toEqual({ code: DISCONNECT_CODES.SERVER_DRAINING, reason: 'server shutting down', reconnect: true });
  });
});
