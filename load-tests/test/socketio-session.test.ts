import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestGateway, type TestGateway, type TestUser } from '../../server/test/support/test-gateway.ts';
import { createSocketIoSession, type SessionHandlers, type SocketIoSession } from '../lib/socketio-session.ts';
import { websocketUrl } from '../lib/socketio-wire.ts';

function fake(handlers: SessionHandlers = {}, auth: Record<string, unknown> = { token: 't' }) {
  const sent: string[] = [];
  const session = createSocketIoSession((t) => sent.push(t), auth, handlers);
  return { session, sent };
}

const OPEN = '0{"sid":"e1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":16384}';

describe('socketio-session (the k6 client state machine)', () => {
  it('joins the namespace with its auth once Engine.IO opens, then reports the socket id', () => {
    const seen: string[] = [];
    const { session, sent } = fake({ onConnect: (sid) => seen.push(sid) }, { token: 'abc' });
    expect(session.state()).toBe('opening');
    session.receive(OPEN);
    expect(sent).toEqual(['40{"token":"abc"}']);
    expect(session.state()).toBe('connecting');
    expect(session.engine()?.pingInterval).toBe(25000);
    session.receive('40{"sid":"s1"}');
    expect(seen).toEqual(['s1']);
    expect(session.state()).toBe('connected');
  });

  it('answers every ping with a pong, probes included', () => {
    const { session, sent } = fake();
    session.receive(OPEN);
    session.receive('2');
    session.receive('2probe');
    expect(sent.slice(1)).toEqual(['3', '3probe']);
  });

  it('reports a refused connect with its data and stops', () => {
    const errs: unknown[] = [];
    const { session } = fake({ onConnectError: (m, d) => errs.push([m, d]) });
    session.receive(OPEN);
    session.receive('44{"message":"unauthorized","data":{"code":"FLOCK_ERR_UNAUTHORIZED"}}');
    expect(errs).toEqual([['unauthorized', { code: 'FLOCK_ERR_UNAUTHORIZED' }]]);
    expect(session.state()).toBe('closed');
  });

  it('dispatches events, answers the server when it asks for an ack, and ignores other namespaces', () => {
    const events: unknown[] = [];
    const { session, sent } = fake({ onEvent: (e, a) => events.push([e, a]) });
    session.receive(OPEN);
    session.receive('40{"sid":"s"}');
    session.receive('42["tweet",{"id":"1"}]');
    session.receive('42/admin,["tweet",{"id":"2"}]');
    session.receive('427["ping?"]');
    expect(events).toEqual([
      ['tweet', [{ id: '1' }]],
      ['ping?', []],
    ]);
    expect(sent.at(-1)).toBe('437[]');
  });

  it('matches acks to their calls by id, once, and drops cancelled ones', () => {
    const { session, sent } = fake();
    session.receive(OPEN);
    session.receive('40{"sid":"s"}');
    const got: unknown[] = [];
    const a = session.emitWithAck('sync', [{}], (args) => got.push(['a', args]));
    const b = session.emitWithAck('sync', [{ timelineSinceId: '5' }], (args) => got.push(['b', args]));
    expect(sent.slice(-2)).toEqual([`42${a}["sync",{}]`, `42${b}["sync",{"timelineSinceId":"5"}]`]);
    expect(session.pendingAcks()).toBe(2);
    expect(session.cancelAck(a)).toBe(true);
    session.receive(`43${a}[{"ok":true}]`);
    session.receive(`43${b}[{"ok":false}]`);
    session.receive(`43${b}[{"ok":"again"}]`);
    expect(got).toEqual([['b', [{ ok: false }]]]);
    expect(session.pendingAcks()).toBe(0);
  });

  it('reports undecodable frames without closing, and the server ending the session', () => {
    const problems: string[] = [];
    const ends: string[] = [];
    const { session } = fake({ onProtocolError: (e) => problems.push(e.message), onDisconnect: (r) => ends.push(r) });
    session.receive(OPEN);
    session.receive('40{"sid":"s"}');
    session.receive('4{oops');
    expect(problems).toHaveLength(1);
    expect(session.state()).toBe('connected');
    session.receive('41');
    expect(ends).toEqual(['io server disconnect']);
    session.receive('42["tweet",{}]');
    expect(session.state()).toBe('closed');
  });

  it('leaves the namespace and closes Engine.IO on close()', () => {
    const { session, sent } = fake();
    session.receive(OPEN);
    session.receive('40{"sid":"s"}');
    session.close();
    expect(sent.slice(-2)).toEqual(['41', '1']);
    expect(session.state()).toBe('closed');
  });
});

describe('socketio-session against a real Flock gateway', () => {
  let gw: TestGateway;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    gw = await startTestGateway('pglite', 'uws');
    alice = await gw.register('ali');
    bob = await gw.register('bob');
    expect((await gw.api('PUT', `/v1/users/${alice.handle}/follow`, { token: bob.accessToken })).status).toBe(200);
  }, 60_000);
  afterAll(() => gw?.close());

  /** A session on a real WebSocket (the `ws` package standing in for k6/websockets). */
  function open(token: string, handlers: SessionHandlers): Promise<{ session: SocketIoSession; ws: WebSocket }> {
    const ws = new WebSocket(websocketUrl(gw.url));
    const session = createSocketIoSession((t) => ws.send(t), { token }, handlers);
    ws.on('message', (d) => session.receive(d.toString()));
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve({ session, ws }));
      ws.once('error', reject);
    });
  }

  it('connects with a token, calls sync with an ack, and receives the tweet of someone it follows', async () => {
    const tweets: { id: string; tweet: { text: string } }[] = [];
    let connected!: () => void;
    const isConnected = new Promise<void>((r) => (connected = r));
    let tweeted!: () => void;
    const gotTweet = new Promise<void>((r) => (tweeted = r));
    const { session, ws } = await open(bob.accessToken, {
      onConnect: () => connected(),
      onEvent: (event, args) => {
        if (event === 'tweet') {
          tweets.push(args[0] as (typeof tweets)[number]);
          tweeted();
        }
      },
    });
    try {
      await isConnected;
      const ack = await new Promise<unknown[]>((resolve) => session.emitWithAck('sync', [{}], resolve));
      expect(ack[0]).toMatchObject({ ok: true, timeline: { items: [] } });
      const posted = await gw.api('POST', '/v1/tweets', { token: alice.accessToken, body: { text: 'live from k6' } });
      expect(posted.status).toBe(201);
      await gotTweet;
      expect(tweets[0]).toMatchObject({ id: posted.body.id, tweet: { text: 'live from k6' } });
    } finally {
      session.close();
      ws.close();
    }
  });

  it('is refused with FLOCK_ERR_UNAUTHORIZED for a forged token', async () => {
    let refused!: (data: unknown) => void;
    const data = new Promise<unknown>((r) => (refused = r));
    const { ws } = await open('not-a-token', { onConnectError: (_m, d) => refused(d) });
    try {
      expect(await data).toMatchObject({ code: 'FLOCK_ERR_UNAUTHORIZED' });
    } finally {
      ws.close();
    }
  });
});
