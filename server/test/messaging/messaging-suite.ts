import type { QueueMessage, TopicMessage } from '@flock/client/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertService, postgresAvailable } from '../support/services.ts';
import { collect, connectSocket, type TestSocket } from '../support/socket-client.ts';
import { startTestGateway, type Api, type Storage, type TestGateway, type TestUser } from '../support/test-gateway.ts';

export async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify(v).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function expectError(r: { status: number; body: any }, status: number, code: string): void {
  expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });
}

let names = 0;
const unique = (p: string) => `${p}-${process.pid}-${Date.now().toString(36)}-${names++}`;

/** Topics and queues (DESIGN §6) over HTTP and the socket, against one storage. */
export function defineMessagingSuite(storage: Storage): void {
  const pgUp = storage === 'postgres' ? postgresAvailable() : Promise.resolve(true);

  describe(`messaging on ${storage}`, async () => {
    const available = await pgUp;
    let t: TestGateway;
    let api: Api;
    let alice: TestUser;
    let bob: TestUser;
    let carol: TestUser;
    const sockets: TestSocket[] = [];
    const connect = async (u: TestUser) => {
      const s = await connectSocket(t.url, u.accessToken);
      sockets.push(s);
      return s;
    };
    const as = (u: TestUser) => ({
      post: (path: string, body?: unknown) => api('POST', path, { token: u.accessToken, body }),
      get: (path: string) => api('GET', path, { token: u.accessToken }),
      patch: (path: string, body: unknown) => api('PATCH', path, { token: u.accessToken, body }),
      del: (path: string) => api('DELETE', path, { token: u.accessToken }),
    });
    const readAll = async (u: TestUser, topic: string): Promise<TopicMessage[]> => {
      const out: TopicMessage[] = [];
      let after = 0;
      for (;;) {
        const r = await as(u).get(`/v1/topics/${topic}/messages?after=${after}&limit=100`);
        expect(r.status).toBe(200);
        out.push(...r.body.items);
        if (!r.body.next) return out;
        after = Number(r.body.next);
      }
    };

    beforeAll(async () => {
      if (storage === 'postgres') assertService('postgres', available);
      t = await startTestGateway(storage, 'uws', { MESSAGE_MAX_BYTES: 2048, MESSAGING_SWEEP_MS: 200, SOCKET_EVENTS_PER_SECOND: 1000 });
      api = t.api;
      [alice, bob, carol] = [await t.register('mal'), await t.register('mbo'), await t.register('mca')];
    });
    afterAll(async () => {
      for (const s of sockets) s.close();
      await t?.close();
    });

    describe('topics over HTTP', () => {
      it('creates, lists, shows and refuses duplicate or malformed names', async () => {
        const name = unique('news');
        const r = await as(alice).post('/v1/topics', { name });
        expect(r.status).toBe(201);
        expect(r.body).toMatchObject({ name, ownerId: alice.id, publishers: null, subscribers: null, lastOffset: 0 });
        expect(r.body.retention).toEqual({ maxCount: 100_000, maxAgeSeconds: 7 * 24 * 3600 });
        expectError(await as(bob).post('/v1/topics', { name }), 409, 'FLOCK_ERR_NAME_TAKEN');
        for (const bad of ['', 'has space', '-dash', 'x'.repeat(101), 'a/b', 42]) {
          expectError(await as(alice).post('/v1/topics', { name: bad }), 400, 'FLOCK_ERR_VALIDATION');
        }
        expectError(await as(alice).post('/v1/topics', { name: unique('x'), publishers: ['999999999'] }), 400, 'FLOCK_ERR_VALIDATION');
        expectError(await api('POST', '/v1/topics', { body: { name: unique('x') } }), 401, 'FLOCK_ERR_UNAUTHORIZED');
        expect((await as(bob).get(`/v1/topics/${name}`)).body.name).toBe(name);
        const listed = await as(bob).get('/v1/topics?limit=100');
        expect(listed.body.items.map((x: { name: string }) => x.name)).toContain(name);
        expectError(await as(bob).get('/v1/topics/no-such-topic'), 404, 'FLOCK_ERR_NOT_FOUND');
      });

      it('documents every messaging route in /openapi.json', async () => {
        const doc = (await api('GET', '/openapi.json')).body;
        expect(Object.keys(doc.paths)).toEqual(
          expect.arrayContaining(['/v1/topics', '/v1/topics/{name}', '/v1/topics/{name}/messages', '/v1/queues', '/v1/queues/{name}/receive', '/v1/queues/{name}/ack', '/v1/queues/{name}/dead-letters/redrive']),
        );
        const create = doc.paths['/v1/topics'].post.requestBody.content['application/json'].schema;
        expect(create.required).toEqual(['name']);
        expect(doc.paths['/v1/queues/{name}'].patch.requestBody).toBeDefined();
      });

      it('publishes JSON and bytes, one or a batch, and returns them in offset order exactly as sent', async () => {
        const name = unique('log');
        await as(alice).post('/v1/topics', { name });
        const one = await as(alice).post(`/v1/topics/${name}/messages`, { data: { b: 1, a: ['ü', 'x"y', null], n: 1.5 } });
        expect(one.status).toBe(201);
        expect(one.body.items).toHaveLength(1);
        expect(one.body.items[0]).toMatchObject({ offset: 1, contentType: 'application/json', publishedBy: alice.id });
        const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 255]).toString('base64');
        const batch = await as(bob).post(`/v1/topics/${name}/messages`, {
          messages: [{ data: 'two' }, { bytes: png, contentType: 'image/png' }, { data: null }],
        });
        expect(batch.status).toBe(201);
        expect(batch.body.items.map((m: TopicMessage) => m.offset)).toEqual([2, 3, 4]);
        const all = await readAll(carol, name);
        expect(all.map((m) => m.offset)).toEqual([1, 2, 3, 4]);
        expect(all[0]!.data).toEqual({ b: 1, a: ['ü', 'x"y', null], n: 1.5 });
        expect(Object.keys(all[0]!.data as object)).toEqual(['b', 'a', 'n']); // stored as sent, keys in order
        expect(all[2]).toMatchObject({ bytes: png, contentType: 'image/png', publishedBy: bob.id });
        expect(all[2]!.data).toBeUndefined();
        expect(all[3]).toMatchObject({ data: null, contentType: 'application/json' });
        expect(all[3]!.id).toBe(batch.body.items[2].id);
        const page = await as(carol).get(`/v1/topics/${name}/messages?after=1&limit=2`);
        expect(page.body.items.map((m: TopicMessage) => m.offset)).toEqual([2, 3]);
        expect(page.body.next).toBe('3');
        expect((await as(carol).get(`/v1/topics/${name}`)).body.lastOffset).toBe(4);
      });

      it('refuses bad messages with 400 or 413 and stores nothing of the call', async () => {
        const name = unique('bad');
        await as(alice).post('/v1/topics', { name });
        const path = `/v1/topics/${name}/messages`;
        for (const body of [
          {},
          { data: 1, extra: true },
          { data: 1, bytes: 'AA==', contentType: 'x/y' },
          { bytes: 'not base64!', contentType: 'x/y' },
          { bytes: 'AAA', contentType: 'x/y' },
          { bytes: 'AA==' },
          { bytes: 'AA==', contentType: '' },
          { messages: [] },
          { messages: Array.from({ length: 501 }, () => ({ data: 1 })) },
          { messages: [{ data: 1 }, { nope: 2 }] },
        ]) {
          expectError(await as(alice).post(path, body), 400, 'FLOCK_ERR_VALIDATION');
        }
        const big = await as(alice).post(path, { messages: [{ data: 'ok' }, { data: 'x'.repeat(3000) }] });
        expectError(big, 413, 'FLOCK_ERR_PAYLOAD_TOO_LARGE');
        expect(big.body.error.details).toMatchObject({ index: 1, maxBytes: 2048 });
        expectError(await as(alice).post(path, { bytes: Buffer.alloc(2049).toString('base64'), contentType: 'a/b' }), 413, 'FLOCK_ERR_PAYLOAD_TOO_LARGE');
        expect((await as(alice).post(path, { bytes: Buffer.alloc(2048).toString('base64'), contentType: 'a/b' })).status).toBe(201);
        expect((await readAll(alice, name)).map((m) => m.offset)).toEqual([1]);
        expectError(await as(alice).post('/v1/topics/nope-nope/messages', { data: 1 }), 404, 'FLOCK_ERR_NOT_FOUND');
      });

      it('assigns gap-free increasing offsets to concurrent publishers', async () => {
        const name = unique('race');
        await as(alice).post('/v1/topics', { name });
        const users = [alice, bob, carol];
        const results = await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            as(users[i % 3]!).post(`/v1/topics/${name}/messages`, { messages: Array.from({ length: (i % 4) + 1 }, (_, j) => ({ data: { i, j } })) }),
          ),
        );
        const total = results.reduce((n, r) => n + r.body.items.length, 0);
        for (const r of results) {
          expect(r.status).toBe(201);
          const offs = r.body.items.map((m: TopicMessage) => m.offset);
          expect(offs).toEqual(offs.map((_: number, k: number) => offs[0] + k)); // one call's messages are contiguous
        }
        const all = await readAll(alice, name);
        expect(all.map((m) => m.offset)).toEqual(Array.from({ length: total }, (_, k) => k + 1));
        // Per publisher, messages keep the order they were sent in.
        for (const r of results) {
          const js = r.body.items.map((m: TopicMessage) => (all[m.offset - 1]!.data as { j: number }).j);
          expect(js).toEqual(js.map((_: number, k: number) => k));
        }
      });

      it('keeps the newest maxCount messages and drops those older than maxAgeSeconds', async () => {
        const name = unique('ret');
        await as(alice).post('/v1/topics', { name, retention: { maxCount: 5 } });
        await as(alice).post(`/v1/topics/${name}/messages`, { messages: Array.from({ length: 8 }, (_, i) => ({ data: i })) });
        expect((await readAll(alice, name)).map((m) => m.offset)).toEqual([4, 5, 6, 7, 8]);
        const aged = unique('age');
        await as(alice).post('/v1/topics', { name: aged, retention: { maxAgeSeconds: 1 } });
        await as(alice).post(`/v1/topics/${aged}/messages`, { data: 'old' });
        await until(() => readAll(alice, aged), (items) => items.length === 0, 10_000);
        await as(alice).post(`/v1/topics/${aged}/messages`, { data: 'new' });
        expect((await readAll(alice, aged)).map((m) => [m.offset, m.data])).toEqual([[2, 'new']]);
      });

      it('lets only listed publishers publish and listed subscribers read; the owner sets the lists', async () => {
        const name = unique('priv');
        await as(alice).post('/v1/topics', { name, publishers: [bob.id], subscribers: [bob.id] });
        expectError(await as(carol).post(`/v1/topics/${name}/messages`, { data: 1 }), 403, 'FLOCK_ERR_FORBIDDEN');
        expect((await as(bob).post(`/v1/topics/${name}/messages`, { data: 1 })).status).toBe(201);
        expect((await as(alice).post(`/v1/topics/${name}/messages`, { data: 2 })).status).toBe(201);
        expectError(await as(carol).get(`/v1/topics/${name}/messages`), 403, 'FLOCK_ERR_FORBIDDEN');
        expectError(await as(carol).get(`/v1/topics/${name}`), 404, 'FLOCK_ERR_NOT_FOUND');
        expect((await as(carol).get('/v1/topics?limit=100')).body.items.map((x: { name: string }) => x.name)).not.toContain(name);
        expect((await readAll(bob, name)).map((m) => m.publishedBy)).toEqual([bob.id, alice.id]);
        expectError(await as(bob).patch(`/v1/topics/${name}`, { subscribers: null }), 403, 'FLOCK_ERR_FORBIDDEN');
        const opened = await as(alice).patch(`/v1/topics/${name}`, { subscribers: null });
        expect(opened.body).toMatchObject({ subscribers: null, publishers: [bob.id] });
        expect((await readAll(carol, name)).length).toBe(2);
      });

      it('deletes only for the owner, with its messages', async () => {
        const name = unique('del');
        await as(alice).post('/v1/topics', { name });
        await as(alice).post(`/v1/topics/${name}/messages`, { data: 1 });
        expectError(await as(bob).del(`/v1/topics/${name}`), 403, 'FLOCK_ERR_FORBIDDEN');
        expect((await readAll(bob, name)).length).toBe(1);
        expect((await as(alice).del(`/v1/topics/${name}`)).status).toBe(204);
        expectError(await as(alice).get(`/v1/topics/${name}/messages`), 404, 'FLOCK_ERR_NOT_FOUND');
        expectError(await as(alice).del(`/v1/topics/${name}`), 404, 'FLOCK_ERR_NOT_FOUND');
        // The name is free again, and the new topic starts from offset 1 with nothing of the old one.
        await as(bob).post('/v1/topics', { name });
        expect((await as(bob).post(`/v1/topics/${name}/messages`, { data: 'fresh' })).body.items[0].offset).toBe(1);
        expect((await readAll(bob, name)).map((m) => m.data)).toEqual(['fresh']);
      });
    });

    describe('queues over HTTP', () => {
      const send = (u: TestUser, q: string, n: number, tag = 'm') =>
        as(u).post(`/v1/queues/${q}/messages`, { messages: Array.from({ length: n }, (_, i) => ({ data: `${tag}${i}` })) });
      const receive = (u: TestUser, q: string, max: number, visibilitySeconds = 30) => as(u).post(`/v1/queues/${q}/receive`, { max, visibilitySeconds });

      it('creates, lists and counts; refuses duplicates; deletes only for the owner', async () => {
        const name = unique('jobs');
        const r = await as(alice).post('/v1/queues', { name, maxAttempts: 3 });
        expect(r.status).toBe(201);
        expect(r.body).toMatchObject({ name, ownerId: alice.id, maxAttempts: 3, senders: null, consumers: null });
        expectError(await as(bob).post('/v1/queues', { name }), 409, 'FLOCK_ERR_NAME_TAKEN');
        expectError(await as(bob).post('/v1/queues', { name: unique('q'), maxAttempts: 0 }), 400, 'FLOCK_ERR_VALIDATION');
        await send(bob, name, 3);
        await receive(carol, name, 1);
        expect((await as(bob).get(`/v1/queues/${name}`)).body.counts).toEqual({ ready: 2, leased: 1, dead: 0 });
        expect((await as(bob).get('/v1/queues?limit=100')).body.items.map((q: { name: string }) => q.name)).toContain(name);
        expectError(await as(bob).del(`/v1/queues/${name}`), 403, 'FLOCK_ERR_FORBIDDEN');
        expect((await as(alice).del(`/v1/queues/${name}`)).status).toBe(204);
        expectError(await receive(carol, name, 1), 404, 'FLOCK_ERR_NOT_FOUND');
      });

      it('competing consumers never hold the same message during one lease, and acked messages are gone', async () => {
        const name = unique('compete');
        await as(alice).post('/v1/queues', { name });
        await send(alice, name, 60);
        const consumers = [alice, bob, carol, alice];
        const got = await Promise.all(consumers.map(async (u) => {
          const mine: QueueMessage[] = [];
          for (;;) {
            const r = await receive(u, name, 7);
            expect(r.status).toBe(200);
            if (r.body.items.length === 0) return mine;
            mine.push(...r.body.items);
          }
        }));
        const ids = got.flat().map((m) => m.id);
        expect(ids).toHaveLength(60);
        expect(new Set(ids).size).toBe(60);
        expect(got.flat().every((m) => m.attempts === 1 && Date.parse(m.leaseExpiresAt!) > Date.now())).toBe(true);
        expect(got.flat().map((m) => m.data).sort()).toEqual(Array.from({ length: 60 }, (_, i) => `m${i}`).sort());
        const ack = await as(bob).post(`/v1/queues/${name}/ack`, { ids: [...ids, '12345'] });
        expect(ack.body.acked.sort()).toEqual([...ids].sort());
        expect(ack.body.missing).toEqual(['12345']);
        expect((await as(bob).post(`/v1/queues/${name}/ack`, { ids: ids.slice(0, 2) })).body.missing).toEqual(ids.slice(0, 2));
        expect((await as(alice).get(`/v1/queues/${name}`)).body.counts).toEqual({ ready: 0, leased: 0, dead: 0 });
      });

      it('redelivers to another consumer when a consumer dies mid-lease, and refuses its late ack', async () => {
        const name = unique('lease');
        await as(alice).post('/v1/queues', { name });
        await send(alice, name, 2);
        const first = await receive(bob, name, 2, 1); // bob "dies": never acks
        expect(first.body.items).toHaveLength(2);
        expect((await receive(carol, name, 2)).body.items).toEqual([]); // leased: nobody else gets them meanwhile
        const again = await until(() => receive(carol, name, 2, 30), (r) => r.body.items.length === 2);
        expect(again.body.items.map((m: QueueMessage) => m.id).sort()).toEqual(first.body.items.map((m: QueueMessage) => m.id).sort());
        expect(again.body.items.every((m: QueueMessage) => m.attempts === 2)).toBe(true);
        const acked = await as(carol).post(`/v1/queues/${name}/ack`, { ids: again.body.items.map((m: QueueMessage) => m.id) });
        expect(acked.body.acked).toHaveLength(2);
      });

      it('moves a message to the dead-letter list after maxAttempts, and re-drives it', async () => {
        const name = unique('dlq');
        await as(alice).post('/v1/queues', { name, maxAttempts: 2 });
        const [sent] = (await send(alice, name, 1, 'poison')).body.items;
        for (let attempt = 1; attempt <= 2; attempt++) {
          const r = await until(() => receive(bob, name, 1, 1), (x) => x.body.items.length === 1);
          expect(r.body.items[0]).toMatchObject({ id: sent.id, attempts: attempt });
        }
        const dead = await until(() => as(bob).get(`/v1/queues/${name}/dead-letters`), (r) => r.body.items.length === 1);
        expect(dead.body.items[0]).toMatchObject({ id: sent.id, data: 'poison0', attempts: 2 });
        expect(typeof dead.body.items[0].deadAt).toBe('string');
        expect((await receive(bob, name, 1)).body.items).toEqual([]);
        expect((await as(alice).get(`/v1/queues/${name}`)).body.counts).toEqual({ ready: 0, leased: 0, dead: 1 });
        expectError(await as(bob).post(`/v1/queues/${name}/dead-letters/redrive`, {}), 403, 'FLOCK_ERR_FORBIDDEN');
        expect((await as(alice).post(`/v1/queues/${name}/dead-letters/redrive`, { ids: [sent.id] })).body).toEqual({ redriven: 1 });
        const back = await receive(bob, name, 1);
        expect(back.body.items[0]).toMatchObject({ id: sent.id, attempts: 1 });
        expect((await as(alice).get(`/v1/queues/${name}/dead-letters`)).body.items).toEqual([]);
      });

      it('honours senders and consumers lists', async () => {
        const name = unique('acl');
        await as(alice).post('/v1/queues', { name, senders: [bob.id], consumers: [carol.id] });
        expectError(await send(carol, name, 1), 403, 'FLOCK_ERR_FORBIDDEN');
        expect((await send(bob, name, 1)).status).toBe(201);
        expectError(await receive(bob, name, 1), 403, 'FLOCK_ERR_FORBIDDEN');
        expectError(await as(bob).post(`/v1/queues/${name}/ack`, { ids: ['1'] }), 403, 'FLOCK_ERR_FORBIDDEN');
        expect((await receive(carol, name, 1)).body.items[0].publishedBy).toBe(bob.id);
        expectError(await as(bob).post(`/v1/queues/${name}/receive`, { max: 0 }), 400, 'FLOCK_ERR_VALIDATION');
        expectError(await as(carol).post(`/v1/queues/${name}/receive`, { max: 1, visibilitySeconds: 0 }), 400, 'FLOCK_ERR_VALIDATION');
      });
    });

    describe('over the socket', () => {
      it('replays from an offset and goes live with no gap and no duplicate while publishers keep publishing', async () => {
        const name = unique('live');
        await as(alice).post('/v1/topics', { name });
        const pub = (u: TestUser, n: number) => as(u).post(`/v1/topics/${name}/messages`, { messages: Array.from({ length: n }, (_, i) => ({ data: i })) });
        for (let i = 0; i < 10; i++) await pub(alice, 30); // 300 to replay
        let publishing = true;
        const publishers = [alice, bob].map(async (u) => {
          let n = 0;
          while (publishing) n += (await pub(u, 1 + (n % 5))).body.items.length;
          return n;
        });
        const s = await connect(carol);
        const got = collect(s, 'topic:message');
        const ack = await s.emitWithAck('topic:subscribe', { name, fromOffset: 1 });
        expect(ack).toEqual({ ok: true, fromOffset: 1 });
        await got.next((e) => e.message.offset >= 400, 20_000);
        publishing = false;
        const total = 300 + (await Promise.all(publishers)).reduce((a, b) => a + b, 0);
        await got.next((e) => e.message.offset === total, 20_000);
        expect(got.items.map((e) => e.message.offset)).toEqual(Array.from({ length: total }, (_, k) => k + 1));
        expect(got.items.every((e) => e.topic === name && e.id === e.message.id)).toBe(true);
      });

      it('subscribes live-only without fromOffset, refuses others’ private topics, and ends with topic:deleted', async () => {
        const name = unique('end');
        await as(alice).post('/v1/topics', { name, subscribers: [bob.id] });
        await as(alice).post(`/v1/topics/${name}/messages`, { data: 'before' });
        const s = await connect(bob);
        const got = collect(s, 'topic:message');
        const gone = collect(s, 'topic:deleted');
        expect(await s.emitWithAck('topic:subscribe', { name })).toEqual({ ok: true, fromOffset: 2 });
        await as(alice).post(`/v1/topics/${name}/messages`, { data: 'after' });
        expect((await got.next()).message).toMatchObject({ offset: 2, data: 'after' });
        const c = await connect(carol);
        expect(await c.emitWithAck('topic:subscribe', { name, fromOffset: 1 })).toMatchObject({ ok: false, error: { code: 'FLOCK_ERR_FORBIDDEN' } });
        expect(await c.emitWithAck('topic:subscribe', { name: 'bad name' })).toMatchObject({ ok: false, error: { code: 'FLOCK_ERR_VALIDATION' } });
        expect(await c.emitWithAck('topic:subscribe', { name: unique('none') })).toMatchObject({ ok: false, error: { code: 'FLOCK_ERR_NOT_FOUND' } });
        await as(alice).del(`/v1/topics/${name}`);
        expect(await gone.next()).toEqual({ id: expect.stringMatching(/^topic-deleted:/), topic: name });
        // A topic recreated under that name is a new topic: the old subscription does not see it.
        await as(alice).post('/v1/topics', { name });
        await as(alice).post(`/v1/topics/${name}/messages`, { data: 'new topic' });
        expect(await s.emitWithAck('topic:unsubscribe', { name })).toEqual({ ok: true });
        expect(got.items.map((e) => e.message.data)).toEqual(['after']);
      });

      it('replays from the oldest retained offset when older ones are gone, and resumes after a reconnect without repeats', async () => {
        const name = unique('kept');
        await as(alice).post('/v1/topics', { name, retention: { maxCount: 3 } });
        await as(alice).post(`/v1/topics/${name}/messages`, { messages: [1, 2, 3, 4, 5].map((data) => ({ data })) });
        const s = await connect(bob);
        const got = collect(s, 'topic:message');
        expect(await s.emitWithAck('topic:subscribe', { name, fromOffset: 1 })).toEqual({ ok: true, fromOffset: 3 });
        await got.next((e) => e.message.offset === 5);
        s.disconnect();
        await as(alice).post(`/v1/topics/${name}/messages`, { data: 6 });
        const again = await connect(bob);
        const more = collect(again, 'topic:message');
        const last = got.items[got.items.length - 1]!.message.offset;
        expect(await again.emitWithAck('topic:subscribe', { name, fromOffset: last + 1 })).toEqual({ ok: true, fromOffset: 6 });
        await more.next((e) => e.message.offset === 6);
        expect([...got.items, ...more.items].map((e) => e.message.data)).toEqual([3, 4, 5, 6]);
      });

      it('queue:consume leases to competing sockets with the HTTP semantics, and a vanished socket’s messages go to another', async () => {
        const name = unique('sq');
        await as(alice).post('/v1/queues', { name });
        const a = await connect(bob);
        const b = await connect(carol);
        const ga = collect(a, 'queue:message');
        const gb = collect(b, 'queue:message');
        expect(await a.emitWithAck('queue:consume', { name, max: 5 })).toEqual({ ok: true });
        expect(await b.emitWithAck('queue:consume', { name, max: 5 })).toEqual({ ok: true });
        const held = new Map<string, string>();
        const handle = (who: TestSocket, tag: string) => async (e: { message: QueueMessage }) => {
          expect(held.has(e.message.id)).toBe(false); // nobody else holds it now
          held.set(e.message.id, tag);
          const r = await who.emitWithAck('queue:ack', { name, ids: [e.message.id] });
          held.delete(e.message.id);
          expect(r).toMatchObject({ ok: true, acked: [e.message.id] });
        };
        const ha = handle(a, 'a');
        const hb = handle(b, 'b');
        a.on('queue:message', ha);
        b.on('queue:message', hb);
        await as(alice).post(`/v1/queues/${name}/messages`, { messages: Array.from({ length: 40 }, (_, i) => ({ data: i })) });
        await until(async () => ga.items.length + gb.items.length, (n) => n >= 40);
        const ids = [...ga.items, ...gb.items].map((e) => e.message.id);
        expect(new Set(ids).size).toBe(40);
        await until(() => as(alice).get(`/v1/queues/${name}`), (r) => r.body.counts.ready === 0 && r.body.counts.leased === 0);

        // A consumer that takes messages and vanishes without acking: they go to the other one.
        a.off('queue:message', ha);
        b.off('queue:message', hb);
        expect(await b.emitWithAck('queue:cancel', { name })).toEqual({ ok: true });
        const before = ga.items.length;
        await as(alice).post(`/v1/queues/${name}/messages`, { messages: [{ data: 'x' }, { data: 'y' }] });
        await until(async () => ga.items.length, (n) => n >= before + 2);
        const taken = ga.items.slice(before).map((e) => e.message.id).sort();
        const c = await connect(carol);
        const gc = collect(c, 'queue:message');
        expect(await c.emitWithAck('queue:consume', { name })).toEqual({ ok: true });
        a.disconnect();
        await until(async () => gc.items.length, (n) => n >= 2);
        expect(gc.items.map((e) => e.message.id).sort()).toEqual(taken);
        expect(gc.items.every((e) => e.message.attempts === 2)).toBe(true);

        const gone = collect(c, 'queue:deleted');
        expectError(await as(carol).del(`/v1/queues/${name}`), 403, 'FLOCK_ERR_FORBIDDEN');
        await as(alice).del(`/v1/queues/${name}`);
        expect((await gone.next()).queue).toBe(name);
      });
    });
  });
}
