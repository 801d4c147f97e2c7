import type { Topic, TopicMessage } from '@flock/client/protocol';
import type { Config } from '../config.ts';
import { uniqueViolation, type Database, type Queryable } from '../db/database.ts';
import { FlockError, forbidden, notFound } from '../errors.ts';
import { page } from '../domain/rows.ts';
import { acceptWriters, deleteOwned, ownedRow, resultsPerJob, writtenMessage, type OwnedKind } from './owned.ts';
import type { IdGenerator } from '../ids.ts';
import type { Logger } from '../logger.ts';
import { allowed, checkUsersExist, visibleTo, type AccessList } from './access.ts';
import { GroupCommit } from './group-commit.ts';
import type { MessagingEvents } from './messaging-events.ts';
import { MAX_BATCH, PAYLOAD_COLUMNS, payloadArrays, preparePayloads, toMessageBase, type PayloadRow, type StoredPayload } from './payload.ts';
import type { MessageInput } from '@flock/client/protocol';

export interface TopicDeps {
  config: Config;
  db: Database;
  ids: IdGenerator;
  events: MessagingEvents;
}

export interface TopicSettings {
  publishers?: AccessList;
  subscribers?: AccessList;
  retention?: { maxCount?: number; maxAgeSeconds?: number };
}

interface TopicRow {
  id: string;
  name: string;
  owner_id: string;
  publishers: string[] | null;
  subscribers: string[] | null;
  retention_count: number;
  retention_seconds: number;
  last_offset: string;
  created_at: Date;
}

const TOPIC_COLUMNS = `id, name, owner_id, publishers::text[] AS publishers, subscribers::text[] AS subscribers,
  retention_count, retention_seconds, last_offset, created_at`;

const TOPIC: OwnedKind = { table: 'topics', noun: 'topic', columns: TOPIC_COLUMNS };

const toTopic = (r: TopicRow): Topic => ({
  id: r.id,
  name: r.name,
  ownerId: r.owner_id,
  publishers: r.publishers,
  subscribers: r.subscribers,
  retention: { maxCount: r.retention_count, maxAgeSeconds: r.retention_seconds },
  lastOffset: Number(r.last_offset),
  createdAt: r.created_at.toISOString(),
});

interface TopicMessageRow extends PayloadRow {
  offset: string;
}

const toTopicMessage = (r: TopicMessageRow): TopicMessage => ({ ...toMessageBase(r), offset: Number(r.offset) });

interface PublishJob {
  userId: string;
  payloads: StoredPayload[];
}

/** Where a subscription starts: the first retained offset and the next offset to be written. */
export interface TopicPosition {
  topicId: string;
  /** Oldest retained offset (lastOffset + 1 when empty). */
  firstOffset: number;
  lastOffset: number;
}

/**
 * Topics: named, owned, append-only logs. A publish locks the topic's row, so
 * offsets are assigned without gaps and commit in offset order: a reader that
 * sees offset n also sees every retained offset below it. Concurrent publishes
 * to one topic are group-committed (one transaction for all that queue up
 * while the previous one commits). Retention: the newest `maxCount` messages
 * no older than `maxAgeSeconds`.
 */
export class TopicService {
  private readonly publisher: GroupCommit<PublishJob, TopicMessage[]>;
  private sweeper: NodeJS.Timeout | null = null;
  /** The sweep under way, if any. */
  private sweeping: Promise<unknown> | null = null;

  constructor(private readonly d: TopicDeps) {
    this.publisher = new GroupCommit((name, jobs) => this.flush(name, jobs), (j) => j.payloads.length, MAX_BATCH * 4);
  }

  private row(db: Queryable, name: string, lock = ''): Promise<TopicRow> {
    return ownedRow<TopicRow>(db, TOPIC, name, lock);
  }

  async create(ownerId: string, name: string, s: TopicSettings): Promise<Topic> {
    await checkUsersExist(this.d.db, [s.publishers, s.subscribers]);
    try {
      const [r] = await this.d.db.query<TopicRow>(
        `INSERT INTO topics (id, name, owner_id, publishers, subscribers, retention_count, retention_seconds)
         VALUES ($1, $2, $3, $4::bigint[], $5::bigint[], $6, $7) RETURNING ${TOPIC_COLUMNS}`,
        [
          this.d.ids.next(),
          name,
          ownerId,
          s.publishers ?? null,
          s.subscribers ?? null,
          s.retention?.maxCount ?? this.d.config.TOPIC_RETENTION_COUNT,
          s.retention?.maxAgeSeconds ?? this.d.config.TOPIC_RETENTION_SECONDS,
        ],
      );
      return toTopic(r!);
    } catch (err) {
      if (uniqueViolation(err) !== null) throw new FlockError('FLOCK_ERR_NAME_TAKEN', `A topic named ${name} exists`);
      throw err;
    }
  }

  /** Topics the user owns, may publish to or may subscribe to; by id (creation order). */
  async list(userId: string, q: { limit: number; cursor?: string }): Promise<{ items: Topic[]; next: string | null }> {
    const rows = await this.d.db.query<TopicRow>(
      `SELECT ${TOPIC_COLUMNS} FROM topics WHERE ${visibleTo('$1', 'publishers', 'subscribers')} AND ($2::bigint IS NULL OR id > $2)
        ORDER BY id LIMIT $3`,
      [userId, q.cursor ?? null, q.limit + 1],
    );
    return page(rows, q.limit, toTopic, (r) => r.id);
  }

  async get(userId: string, name: string): Promise<Topic> {
    const t = toTopic(await this.row(this.d.db, name));
    if (!allowed(t.publishers, t.ownerId, userId) && !allowed(t.subscribers, t.ownerId, userId)) throw notFound('No such topic');
    return t;
  }

  async update(userId: string, name: string, s: TopicSettings): Promise<Topic> {
    await checkUsersExist(this.d.db, [s.publishers, s.subscribers]);
    return this.d.db.transaction(async (tx) => {
      const cur = await this.row(tx, name, 'FOR UPDATE');
      if (cur.owner_id !== userId) throw forbidden('Only the owner can change this topic');
      const [r] = await tx.query<TopicRow>(
        `UPDATE topics SET publishers = $2::bigint[], subscribers = $3::bigint[], retention_count = $4, retention_seconds = $5
          WHERE id = $1 RETURNING ${TOPIC_COLUMNS}`,
        [
          cur.id,
          s.publishers === undefined ? cur.publishers : s.publishers,
          s.subscribers === undefined ? cur.subscribers : s.subscribers,
          s.retention?.maxCount ?? cur.retention_count,
          s.retention?.maxAgeSeconds ?? cur.retention_seconds,
        ],
      );
      return toTopic(r!);
    });
  }

  /** Removes the topic and all its messages; live subscribers get `topic:deleted`. */
  async delete(userId: string, name: string): Promise<void> {
    const topicId = await deleteOwned(this.d.db, TOPIC, name, userId);
    this.d.events.emit('topic:deleted', { topicId, name });
  }

  /** Durable before it resolves: the messages are committed, with their offsets. */
  async publish(userId: string, name: string, inputs: MessageInput[]): Promise<TopicMessage[]> {
    const payloads = preparePayloads(inputs, this.d.config.MESSAGE_MAX_BYTES);
    return this.publisher.submit(name, { userId, payloads });
  }

  private async flush(name: string, jobs: PublishJob[]): Promise<(TopicMessage[] | Error)[]> {
    const out = await this.d.db.transaction(async (tx) => {
      const t = await this.row(tx, name, 'FOR UPDATE');
      const { refused, accepted } = acceptWriters(jobs, t.publishers, t.owner_id, this.d.ids, 'You may not publish to this topic');
      if (accepted.length === 0) return { topicId: t.id, results: resultsPerJob<TopicMessage>(jobs.length, refused, []), messages: [] };
      const first = Number(t.last_offset) + 1;
      const last = first + accepted.length - 1;
      const arrays = payloadArrays(accepted.map((a) => a.payload));
      // The counter and the rows in one statement: one round trip less while the topic's row is locked.
      const [now] = await tx.query<{ now: Date }>(
        `WITH bump AS (UPDATE topics SET last_offset = $8 WHERE id = $1),
              ins AS (
                INSERT INTO topic_messages (topic_id, "offset", id, data, bytes, content_type, published_by, published_at)
                SELECT $1, $2 + o - 1, i, d::json, decode(b, 'base64'), c, p, now()
                  FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[]) WITH ORDINALITY AS u(i, d, b, c, p, o))
         SELECT now() AS now`,
        [t.id, first, accepted.map((a) => a.id), arrays.json, arrays.base64, arrays.contentType, accepted.map((a) => a.userId), last],
      );
      if (last > t.retention_count) {
        await tx.query('DELETE FROM topic_messages WHERE topic_id = $1 AND "offset" <= $2', [t.id, last - t.retention_count]);
      }
      const written = accepted.map((a, k) => ({ job: a.job, message: { ...writtenMessage(a, now!.now), offset: first + k } }));
      return { topicId: t.id, results: resultsPerJob(jobs.length, refused, written), messages: written.map((w) => w.message) };
    });
    if (out.messages.length > 0) this.d.events.emit('topic:published', { topicId: out.topicId, name, messages: out.messages });
    return out.results;
  }

  private async readable(userId: string, name: string): Promise<TopicRow> {
    const t = await this.row(this.d.db, name);
    if (!allowed(t.subscribers, t.owner_id, userId)) throw forbidden('You may not read this topic');
    return t;
  }

  /** Pull: retained messages with offset > after, oldest first. */
  async read(userId: string, name: string, after: number, limit: number): Promise<{ items: TopicMessage[]; next: string | null }> {
    const t = await this.readable(userId, name);
    const items = await this.readById(t.id, after, limit + 1, t.retention_seconds);
    const more = items.length > limit;
    const page = items.slice(0, limit);
    return { items: page, next: more ? String(page[page.length - 1]!.offset) : null };
  }

  /** Messages of a topic after an offset, for replay (the caller checked access). */
  async readById(topicId: string, after: number, limit: number, maxAgeSeconds?: number): Promise<TopicMessage[]> {
    const rows = await this.d.db.query<TopicMessageRow>(
      `SELECT "offset", ${PAYLOAD_COLUMNS} FROM topic_messages
        WHERE topic_id = $1 AND "offset" > $2 AND ($4::int IS NULL OR published_at > now() - make_interval(secs => $4))
        ORDER BY "offset" LIMIT $3`,
      [topicId, after, limit, maxAgeSeconds ?? null],
    );
    return rows.map(toTopicMessage);
  }

  /** For a subscription: checks the user may subscribe and says where the topic stands. */
  async position(userId: string, name: string): Promise<TopicPosition> {
    const t = await this.readable(userId, name);
    const [r] = await this.d.db.query<{ first: string | null }>('SELECT min("offset") AS first FROM topic_messages WHERE topic_id = $1', [t.id]);
    const last = Number(t.last_offset);
    return { topicId: t.id, firstOffset: r?.first === null || r?.first === undefined ? last + 1 : Number(r.first), lastOffset: last };
  }

  /** The newest offset of each topic (for subscribers checking they missed nothing). */
  async lastOffsets(topicIds: string[]): Promise<{ topicId: string; lastOffset: number }[]> {
    const rows = await this.d.db.query<{ id: string; last_offset: string }>('SELECT id, last_offset FROM topics WHERE id = ANY($1::bigint[])', [topicIds]);
    return rows.map((r) => ({ topicId: r.id, lastOffset: Number(r.last_offset) }));
  }

  /** Deletes expired messages every `ms` (reads already skip them; this frees the space). */
  startSweeper(ms: number, log: Logger): void {
    this.sweeper = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = this.sweep()
        .then((n) => n > 0 && log.debug({ deleted: n }, 'expired topic messages deleted'))
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'topic retention sweep failed'))
        .finally(() => (this.sweeping = null));
    }, ms);
    this.sweeper.unref();
  }

  /** Stops the sweeps; resolves once a sweep under way has finished (before the database closes). */
  async stopSweeper(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    await this.sweeping;
  }

  /** Deletes messages past their topic's age retention; returns how many. */
  async sweep(): Promise<number> {
    const rows = await this.d.db.query<{ n: string }>(
      `WITH gone AS (
         DELETE FROM topic_messages m USING topics t
          WHERE m.topic_id = t.id AND m.published_at < now() - make_interval(secs => t.retention_seconds)
            -- the same bound for all topics, so the published_at index finds the candidates
            AND m.published_at < now() - make_interval(secs => (SELECT min(retention_seconds) FROM topics))
          RETURNING 1)
       SELECT count(*) AS n FROM gone`,
    );
    return Number(rows[0]?.n ?? 0);
  }
}
