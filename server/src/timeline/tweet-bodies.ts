import type { Tweet, TweetCounts, UserSummary } from '@flock/client/protocol';
import type { InvalidationBus } from '../cache/invalidation-bus.ts';
import { LocalCache } from '../cache/local-cache.ts';
import type { Queryable } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import type { AuthorCols, TweetRow } from '../domain/rows.ts';
import type { BodyCache } from './body-cache.ts';

/** A tweet as cached: everything but its author's summary, which is cached once per author. */
interface TweetBody {
  id: string;
  authorId: string;
  text: string;
  replyTo: string | null;
  createdAt: string;
  editedAt: string | null;
  counts: TweetCounts;
}

type BodyRow = Omit<TweetRow, keyof AuthorCols> & { author_id: string };

/** Body-cache keys of tweets are this plus the tweet id. */
export const TWEET_KEY_PREFIX = 'tw:';
const tweetKey = (id: string) => `${TWEET_KEY_PREFIX}${id}`;

/**
 * The head of a body's JSON as `JSON.stringify` writes a TweetBody (ids are digit strings). What
 * follows it (`"text":…` to the end) is, byte for byte, the tail of the Tweet's JSON, whose only
 * other difference is the author's summary in place of `authorId`.
 */
const BODY_HEAD = /^\{"id":"(\d+)","authorId":"(\d+)",(?="text":)/;

/**
 * A body's cached JSON and its split for splicing, written once: byte for byte
 * `JSON.stringify({id, authorId, text, replyTo, createdAt, editedAt, counts})` (the SQL path's
 * toTweet key order, with authorId where the Tweet has its author), ids being digit strings.
 */
function writeBody(b: TweetBody): { json: string; split: SplitBody } {
  const tail = JSON.stringify({ text: b.text, replyTo: b.replyTo, createdAt: b.createdAt, editedAt: b.editedAt, counts: b.counts }).slice(1);
  return { json: `{"id":"${b.id}","authorId":"${b.authorId}",${tail}`, split: { id: b.id, authorId: b.authorId, tail } };
}

const bodyJson = (b: TweetBody): string => writeBody(b).json;

/** A cached body ready for splicing: its id, its author's id and the rest of the tweet's JSON. */
interface SplitBody {
  id: string;
  authorId: string;
  tail: string;
  /**
   * The tweet's JSON as last spliced, with the author summary object it was spliced with: the
   * same body with the same summary (both immutable, replaced on change) gives the same text.
   */
  spliced?: { author: UserSummary; json: string };
}

/**
 * A body's JSON split into its author and the Tweet JSON's tail; parsed and written again if it is
 * not in the usual form; null (treated as not cached) if it is not a tweet body at all.
 */
function splitBody(json: string): SplitBody | null {
  const m = BODY_HEAD.exec(json);
  if (m) return { id: m[1]!, authorId: m[2]!, tail: json.slice(m[0].length) };
  let again: string;
  try {
    again = bodyJson(JSON.parse(json) as TweetBody);
  } catch {
    return null;
  }
  const m2 = BODY_HEAD.exec(again);
  return m2 ? { id: m2[1]!, authorId: m2[2]!, tail: again.slice(m2[0].length) } : null;
}
const authorKey = (id: string) => `au:${id}`;

/**
 * Turns tweet ids into the tweets a reader sees, from the body cache with PostgreSQL behind it.
 * A tweet that is deleted, or whose author is gone, is left out, exactly as the SQL timeline
 * leaves it out. Writers call `changedTweets` / `changedAuthors` after their commit; when the
 * cache is unreachable reads go to PostgreSQL and a failed invalidation is logged (the value then
 * lives until its TTL; docs/timelines.md).
 */
export class TweetBodies {
  /** Author summaries in process (few, read on every page, rarely changed); null when not configured. */
  private readonly authors: LocalCache<UserSummary> | null;
  private readonly authorTexts = new WeakMap<UserSummary, string>();
  /** Tweet bodies in process; null when not configured. */
  private readonly bodies: LocalCache<SplitBody> | null;

  constructor(
    private readonly d: {
      db: Queryable;
      cache: BodyCache;
      log: Logger;
      onCacheError: (op: string) => void;
      /**
       * Keeps author summaries in this process too, dropped on every node through the bus when a
       * profile changes or an account is deleted (docs/timelines.md "Author summaries").
       */
      local?: { bus: InvalidationBus; ttlMs: number; maxEntries: number };
      /**
       * Keeps tweet bodies (split for splicing) in this process too, dropped on every node through
       * the same bus when a tweet changes (docs/timelines.md "Tweet bodies in process").
       */
      localBodies?: { ttlMs: number; maxEntries: number };
    },
  ) {
    const local = d.local;
    this.authors = local ? new LocalCache<UserSummary>({ ttlMs: local.ttlMs, maxEntries: local.maxEntries, usable: () => local.bus.connected() }) : null;
    const lb = local && d.localBodies ? new LocalCache<SplitBody>({ ...d.localBodies, usable: () => local.bus.connected() }) : null;
    this.bodies = lb?.enabled ? lb : null;
    if (local && this.authors) {
      // An account deletion is followed by changedAuthors too (users.ts), so `author` covers it.
      const authors = this.authors;
      const bodies = this.bodies;
      local.bus.subscribe((msg) => {
        if (msg.kind === 'author') authors.delete(msg.ids);
        if (msg.kind === 'tweet') bodies?.delete(msg.ids);
      });
      local.bus.onGap(() => {
        authors.clear();
        bodies?.clear();
      });
    }
  }

  /**
   * Whether a page read should fetch the bodies with the timeline (`TimelineCache.readPage`): not
   * while they are kept in process (most are here already; the rest are read after the ticket
   * that guards filling them is taken).
   */
  prefetchBodies(): boolean {
    return this.bodies === null || !this.d.local!.bus.connected();
  }

  private async cached(keys: string[]): Promise<Map<string, string>> {
    if (keys.length === 0) return new Map();
    try {
      return await this.d.cache.getMany(keys);
    } catch (err) {
      this.failed('read', err);
      return new Map();
    }
  }

  private fill(entries: [string, string][]): void {
    if (entries.length === 0) return;
    // Filling is an optimisation for the next reader: nobody waits for it.
    this.d.cache.fill(entries).catch((err: unknown) => this.failed('fill', err));
  }

  private failed(op: string, err: unknown): void {
    this.d.onCacheError(op);
    this.d.log.warn({ err: (err as Error).message, op }, 'tweet body cache unavailable; using PostgreSQL');
  }

  /**
   * Values of `ids` from the cache, the rest loaded from PostgreSQL by `load` (which leaves out
   * what does not exist) and filled into the cache for the next reader.
   */
  private async readThrough<T>(ids: readonly string[], key: (id: string) => string, load: (missing: string[]) => Promise<T[]>, idOf: (v: T) => string): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    const hits = await this.cached(ids.map(key));
    for (const id of ids) {
      const v = hits.get(key(id));
      if (v !== undefined) out.set(id, JSON.parse(v) as T);
    }
    const missing = ids.filter((id) => !out.has(id));
    if (missing.length > 0) {
      const loaded = await load(missing);
      for (const v of loaded) out.set(idOf(v), v);
      this.fill(loaded.map((v) => [key(idOf(v)), JSON.stringify(v)]));
    }
    return out;
  }

  /**
   * The live tweets among `ids`, by id, as objects (the socket's `sync`): `hydrateJson`'s text
   * parsed, so both take the same caches (in process, shared, prefetched) and the same checks.
   */
  async hydrate(ids: readonly string[], prefetched?: ReadonlyMap<string, string | null>): Promise<Map<string, Tweet>> {
    const json = await this.hydrateJson(ids, prefetched);
    return new Map([...json].map(([id, text]) => [id, JSON.parse(text) as Tweet]));
  }

  /**
   * The live tweets among `ids` as JSON text, by id: byte for byte `JSON.stringify` of the Tweet
   * the SQL path's `toTweet` makes, built from the cached JSON of the bodies without parsing it (the author's
   * summary is spliced in where the body has its id). What the HTTP route sends. `prefetched`:
   * body-cache values already read for some ids (null: not cached), as `TimelineCache.readPage`
   * returns them; the other ids are read from the body cache.
   */
  async hydrateJson(ids: readonly string[], prefetched?: ReadonlyMap<string, string | null>): Promise<Map<string, string>> {
    const bodies: SplitBody[] = [];
    const local = this.bodies;
    let unique = [...new Set(ids)];
    if (local) {
      const notHere: string[] = [];
      for (const id of unique) {
        const b = local.get(id);
        if (b) bodies.push(b);
        else notHere.push(id);
      }
      unique = notHere;
    }
    // Taken before reading the shared cache and PostgreSQL: an invalidation arriving meanwhile
    // refuses the (possibly old) values. Prefetched values were read before it: never kept.
    const ticket = local?.ticket() ?? 0;
    const rest = prefetched ? unique.filter((id) => !prefetched.has(id)) : unique;
    const hits = await this.cached(rest.map(tweetKey));
    const missing: string[] = [];
    for (const id of unique) {
      const pre = prefetched?.get(id);
      const v = pre ?? hits.get(tweetKey(id));
      const body = v === undefined || v === null ? null : splitBody(v);
      if (body && body.id === id) {
        bodies.push(body);
        if (local && pre == null) local.set(id, body, ticket);
      } else missing.push(id);
    }
    if (missing.length > 0) {
      const written = (await this.loadBodies(missing)).map(writeBody);
      this.fill(written.map(({ json, split }) => [tweetKey(split.id), json]));
      for (const { split } of written) {
        bodies.push(split);
        local?.set(split.id, split, ticket);
      }
    }
    const authors = await this.authorSummaries(new Set(bodies.map((b) => b.authorId)));
    const out = new Map<string, string>();
    for (const b of bodies) {
      const author = authors.get(b.authorId);
      if (!author) continue;
      if (b.spliced?.author !== author) b.spliced = { author, json: `{"id":"${b.id}","author":${this.authorJson(author)},${b.tail}` };
      out.set(b.id, b.spliced.json);
    }
    return out;
  }

  /** An author summary's JSON, written once per summary object (they live in the local cache). */
  private authorJson(a: UserSummary): string {
    let json = this.authorTexts.get(a);
    if (json === undefined) {
      json = JSON.stringify(a);
      this.authorTexts.set(a, json);
    }
    return json;
  }

  private async authorSummaries(ids: Set<string>): Promise<Map<string, UserSummary>> {
    const local = this.authors;
    if (!local) return this.readThrough([...ids], authorKey, (missing) => this.loadAuthors(missing), (a: UserSummary) => a.id);
    const out = new Map<string, UserSummary>();
    const missing: string[] = [];
    for (const id of ids) {
      const a = local.get(id);
      if (a) out.set(id, a);
      else missing.push(id);
    }
    if (missing.length === 0) return out;
    // Taken before reading: an invalidation arriving meanwhile refuses the (possibly old) values.
    const ticket = local.ticket();
    const loaded = await this.readThrough(missing, authorKey, (m) => this.loadAuthors(m), (a: UserSummary) => a.id);
    for (const [id, a] of loaded) {
      out.set(id, a);
      local.set(id, a, ticket);
    }
    return out;
  }

  private async loadBodies(ids: string[]): Promise<TweetBody[]> {
    const rows = await this.d.db.query<BodyRow>(
      `SELECT id, author_id, text, reply_to_id, created_at, edited_at, like_count, repost_count, comment_count, reply_count
         FROM tweets WHERE id = ANY($1::bigint[]) AND deleted_at IS NULL`,
      [ids],
    );
    return rows.map((r) => ({
      id: r.id,
      authorId: r.author_id,
      text: r.text,
      replyTo: r.reply_to_id,
      createdAt: r.created_at.toISOString(),
      editedAt: r.edited_at ? r.edited_at.toISOString() : null,
      counts: { likes: r.like_count, reposts: r.repost_count, comments: r.comment_count, replies: r.reply_count },
    }));
  }

  private async loadAuthors(ids: string[]): Promise<UserSummary[]> {
    const rows = await this.d.db.query<{ id: string; handle: string; name: string; avatar_url: string | null }>(
      'SELECT id, handle, name, avatar_url FROM users WHERE id = ANY($1::bigint[])',
      [ids],
    );
    return rows.map((r) => ({ id: r.id, handle: r.handle, name: r.name, avatarUrl: r.avatar_url }));
  }

  /** After a commit that changed these tweets (text, counters, deletion). */
  async changedTweets(ids: readonly string[]): Promise<void> {
    await this.invalidate(ids.map(tweetKey));
    // After the shared cache, as for authors: a node that drops its copy must not read the old body back.
    if (this.bodies && ids.length > 0) this.d.local!.bus.publish({ kind: 'tweet', ids: [...ids] });
  }

  /** After a commit that changed these users' summaries (handle, name, avatar) or deleted them. */
  async changedAuthors(ids: readonly string[]): Promise<void> {
    await this.invalidate(ids.map(authorKey));
    // After the shared cache: a node that drops its copy must not read the old value back from it.
    if (this.d.local && ids.length > 0) this.d.local.bus.publish({ kind: 'author', ids: [...ids] });
  }

  private async invalidate(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    try {
      await this.d.cache.invalidate(keys);
    } catch (err) {
      this.d.onCacheError('invalidate');
      this.d.log.error({ err: (err as Error).message, keys: keys.length }, 'tweet body cache invalidation failed; stale until the TTL');
    }
  }
}
