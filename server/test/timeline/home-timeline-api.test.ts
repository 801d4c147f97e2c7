import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway, type TestUser } from '../support/test-gateway.ts';

/**
 * Issue 4: cursor pagination stays stable under concurrent writes. A reader pages through their
 * cached home timeline while the people they follow post and delete: no page repeats or skips a
 * tweet, new tweets never push old ones onto the next page, deleted ones just leave, and since_id
 * returns exactly what is new. TIMELINE_CACHE_SIZE is small, so the deep pages cross the cache
 * floor into SQL on the way.
 */
describe('home timeline over HTTP: pagination under concurrent writes, changes shown at once', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway('pglite', 'node', { TIMELINE_CACHE_SIZE: 20, RATE_TWEETS_PER_USER: '1000/1h' });
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = async (u: TestUser, text: string) => {
    const r = await t.api('POST', '/v1/tweets', { token: u.accessToken, body: { text } });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  // Followers' timelines are written after each POST answers (docs/timelines.md "Fan-out"): a
  // page is read once the fan-out of every write before it is applied.
  const page = async (u: TestUser, query: string) => {
    await t.fanout();
    const r = await t.api('GET', `/v1/timeline/home?${query}`, { token: u.accessToken });
    expect(r.status).toBe(200);
    return r.body as { items: { id: string }[]; next: string | null };
  };

  it('pages keep their place while others post and delete', async () => {
    const reader = await t.register('pg');
    const authors = [await t.register('pa'), await t.register('pb'), await t.register('pc')];
    for (const a of authors) expect((await t.api('PUT', `/v1/users/${a.handle}/follow`, { token: reader.accessToken })).status).toBe(200);
    const before: string[] = [];
    for (let i = 0; i < 36; i++) before.unshift(await post(authors[i % 3]!, `old ${i}`));

    const first = await page(reader, 'limit=7');
    expect(first.items.map((x) => x.id)).toEqual(before.slice(0, 7));
    const seen = [...first.items.map((x) => x.id)];
    const fresh: string[] = [];
    const deleted = new Set<string>();
    let next = first.next;
    for (let round = 0; next; round++) {
      // Between pages: a new tweet, and the deletion of an old one further down.
      fresh.unshift(await post(authors[round % 3]!, `new ${round}`));
      const victimIndex = 7 * (round + 2);
      if (victimIndex < before.length) {
        const victim = before[victimIndex]!;
        const owner = authors.find((_, k) => (before.length - 1 - victimIndex) % 3 === k)!;
        expect((await t.api('DELETE', `/v1/tweets/${victim}`, { token: owner.accessToken })).status).toBe(204);
        deleted.add(victim);
      }
      const p = await page(reader, `limit=7&cursor=${next}`);
      seen.push(...p.items.map((x) => x.id));
      next = p.next;
    }
    expect(seen).toEqual(before.filter((id) => !deleted.has(id)));
    expect(deleted.size).toBeGreaterThan(0);

    const caughtUp = await page(reader, `limit=100&since_id=${before[0]}`);
    expect(caughtUp.items.map((x) => x.id)).toEqual(fresh);
    // max_id is inclusive and stable too.
    const fromMax = await page(reader, `limit=3&max_id=${before[10]}`);
    expect(fromMax.items.map((x) => x.id)).toEqual(before.slice(10).filter((id) => !deleted.has(id)).slice(0, 3));
  });

  it('shows every change of a tweet in followers\' timelines at once: edit, counts, author profile, deletion', async () => {
    const author = await t.register('ea');
    const reader = await t.register('er');
    await t.api('PUT', `/v1/users/${author.handle}/follow`, { token: reader.accessToken });
    const id = await post(author, 'first words');
    const inHome = async () => (await page(reader, 'limit=5')).items.find((x) => x.id === id) as Record<string, unknown> | undefined;
    const single = async () => (await t.api('GET', `/v1/tweets/${id}`)).body as Record<string, unknown>;
    expect(await inHome()).toEqual(await single()); // cached from here on

    await t.api('PATCH', `/v1/tweets/${id}`, { token: author.accessToken, body: { text: 'second words' } });
    await t.api('PUT', `/v1/tweets/${id}/reactions/like`, { token: reader.accessToken });
    await t.api('POST', `/v1/tweets/${id}/comments`, { token: reader.accessToken, body: { text: 'nice' } });
    await t.api('POST', '/v1/tweets', { token: reader.accessToken, body: { text: 'a reply', replyTo: id } });
    await t.api('PATCH', '/v1/users/me', { token: author.accessToken, body: { name: 'Renamed Author' } });
    const changed = await inHome();
    expect(changed).toMatchObject({ text: 'second words', author: { name: 'Renamed Author' }, counts: { likes: 1, comments: 1, replies: 1 } });
    expect(changed).toEqual(await single());

    await t.api('DELETE', `/v1/tweets/${id}`, { token: author.accessToken });
    expect(await inHome()).toBeUndefined();
  });
});

describe('home timeline over HTTP: a post answers before its followers\u2019 fan-out', () => {
  let t: TestGateway;
  beforeAll(async () => {
    // No worker on this node: the jobs wait in the outbox until the test applies them.
    t = await startTestGateway('pglite', 'node', { TIMELINE_FANOUT_WORKER: 'false' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('the author reads the tweet at once; followers once the fan-out job has run', async () => {
    const author = await t.register('fa');
    const follower = await t.register('ff');
    expect((await t.api('PUT', `/v1/users/${author.handle}/follow`, { token: follower.accessToken })).status).toBe(200);
    const home = async (u: TestUser) => ((await t.api('GET', '/v1/timeline/home', { token: u.accessToken })).body.items as { id: string }[]).map((x) => x.id);
    // Both timelines warm (rebuilt from SQL now), so what follows comes from the cache.
    expect(await home(author)).toEqual([]);
    expect(await home(follower)).toEqual([]);
    await t.gw.timelines.worker.drain(); // the follow's job
    const r = await t.api('POST', '/v1/tweets', { token: author.accessToken, body: { text: 'mine first' } });
    expect(r.status).toBe(201);
    expect(await home(author)).toEqual([r.body.id]);
    expect(await home(follower)).toEqual([]);
    expect(await t.gw.timelines.worker.runBatch()).toBe(1);
    expect(await home(follower)).toEqual([r.body.id]);
    expect(await home(author)).toEqual([r.body.id]);
  });
});
