import type { MessageInput, Queue, QueueMessage } from '@flock/client/protocol';
import type { Config } from '../config.ts';
import { uniqueViolation, type Database, type Queryable } from '../db/database.ts';
import { page } from '../domain/rows.ts';
import { FlockError, forbidden, notFound } from '../errors.ts';
import { acceptWriters, deleteOwned, ownedRow, resultsPerJob, writtenMessage, type OwnedKind } from './owned.ts';
import type { IdGenerator } from '../ids.ts';
import { allowed, checkUsersExist, visibleTo, type AccessList } from './access.ts';
import { GroupCommit } from './group-commit.ts';
import type { MessagingEvents } from './messaging-events.ts';
import { MAX_BATCH, PAYLOAD_COLUMNS, payloadArrays, preparePayloads, toMessageBase, type PayloadRow, type StoredPayload } from './payload.ts';

export interface QueueDeps {
  config: Config;
  db: Database;
  ids: IdGenerator;
  events: MessagingEvents;
}

export interface QueueSettings {
  senders?: AccessList;
  consumers?: AccessList;
  maxAttempts?: number;
}

export const DEFAULT_MAX_ATTEMPTS = 5;

interface QueueRow {
  id: string;
  name: string;
  owner_id: string;
  senders: string[] | null;
  consumers: string[] | null;
  max_attempts: number;
  created_at: Date;
}

const QUEUE_COLUMNS = 'id, name, owner_id, senders::text[] AS senders, consumers::text[] AS consumers, max_attempts, created_at';

const QUEUE: OwnedKind = { table: 'queues', noun: 'queue', columns: QUEUE_COLUMNS };

const toQueue = (r: QueueRow, counts = { ready: 0, leased: 0, dead: 0 }): Queue => ({
  id: r.id,
  name: r.name,
  ownerId: r.owner_id,
  senders: r.senders,
  consumers: r.consumers,
  maxAttempts: r.max_attempts,
  counts,
  createdAt: r.created_at.toISOString(),
});

interface QueueMessageRow extends PayloadRow {
  attempts: number;
  visible_at: Date;
  dead_at: Date | null;
}

const MESSAGE_COLUMNS = `${PAYLOAD_COLUMNS}, attempts, visible_at, dead_at`;

const toLeased = (r: QueueMessageRow): QueueMessage => ({ ...toMessageBase(r), attempts: r.attempts, leaseExpiresAt: r.visible_at.toISOString() });
const toDead = (r: QueueMessageRow): QueueMessage => ({ ...toMessageBase(r), attempts: r.attempts, deadAt: r.dead_at!.toISOString() });

interface SendJob {
  userId: string;
  payloads: StoredPayload[];
}

export interface Lease {
  /** Identifies this receive call's leases (a socket consumer releases them by it when it goes away). */
  leaseId: string;
  items: QueueMessage[];
}

/**
 * Queues: each message goes to one consumer at a time. `receive` leases up to
 * `max` visible messages (FOR UPDATE SKIP LOCKED, so competing consumers never
 * pick the same row) by pushing their visibility to the end of the lease and
 * counting the attempt; `ack` deletes them while the lease runs; a message not
 * acked in time becomes visible again; one leased `maxAttempts` times without
 * an ack moves to the dead-letter list instead of being delivered again.
 * Order: oldest visible first (best-effort FIFO; redeliveries go by the time they came back).
 */
export class QueueService {
  private readonly sender: GroupCommit<SendJob, QueueMessage[]>;

  constructor(private readonly d: QueueDeps) {
    this.sender = new GroupCommit((name, jobs) => this.flush(name, jobs), (j) => j.payloads.length, MAX_BATCH * 4);
  }

  private row(db: Queryable, name: string, lock = ''): Promise<QueueRow> {
    return ownedRow<QueueRow>(db, QUEUE, name, lock);
  }

  /** The queue, if the user may consume from it. */
  async consumable(userId: string, name: string): Promise<QueueRow> {
    const q = await this.row(this.d.db, name);
    if (!allowed(q.consumers, q.owner_id, userId)) throw forbidden('You may not consume from this queue');
    return q;
  }

  async create(ownerId: string, name: string, s: QueueSettings): Promise<Queue> {
    await checkUsersExist(this.d.db, [s.senders, s.consumers]);
    try {
      const [r] = await this.d.db.query<QueueRow>(
        `INSERT INTO queues (id, name, owner_id, senders, consumers, max_attempts) VALUES ($1, $2, $3, $4::bigint[], $5::bigint[], $6)
         RETURNING ${QUEUE_COLUMNS}`,
        [this.d.ids.next(), name, ownerId, s.senders ?? null, s.consumers ?? null, s.maxAttempts ?? DEFAULT_MAX_ATTEMPTS],
      );
      return toQueue(r!);
    } catch (err) {
      if (uniqueViolation(err) !== null) throw new FlockError('FLOCK_ERR_NAME_TAKEN', `A queue named ${name} exists`);
      throw err;
    }
  }

  /** Queues the user owns, may send to or may consume from; by id. Counts are left at 0 here (see get). */
  async list(userId: string, q: { limit: number; cursor?: string }): Promise<{ items: Queue[]; next: string | null }> {
    const rows = await this.d.db.query<QueueRow>(
      `SELECT ${QUEUE_COLUMNS} FROM queues WHERE ${visibleTo('$1', 'senders', 'consumers')} AND ($2::bigint IS NULL OR id > $2)
        ORDER BY id LIMIT $3`,
      [userId, q.cursor ?? null, q.limit + 1],
    );
    return page(rows, q.limit, (r) => toQueue(r), (r) => r.id);
  }

  async get(userId: string, name: string): Promise<Queue> {
    const q = await this.row(this.d.db, name);
    if (!allowed(q.senders, q.owner_id, userId) && !allowed(q.consumers, q.owner_id, userId)) throw notFound('No such queue');
    await this.buryExpired(q.id, q.max_attempts);
    const [c] = await this.d.db.query<{ ready: string; leased: string; dead: string }>(
      `SELECT count(*) FILTER (WHERE dead_at IS NULL AND visible_at <= now()) AS ready,
              count(*) FILTER (WHERE dead_at IS NULL AND visible_at > now()) AS leased,
              count(*) FILTER (WHERE dead_at IS NOT NULL) AS dead
         FROM queue_messages WHERE queue_id = $1`,
      [q.id],
    );
    return toQueue(q, { ready: Number(c!.ready), leased: Number(c!.leased), dead: Number(c!.dead) });
  }

  async update(userId: string, name: string, s: QueueSettings): Promise<Queue> {
    await checkUsersExist(this.d.db, [s.senders, s.consumers]);
    await this.d.db.transaction(async (tx) => {
      const cur = await this.row(tx, name, 'FOR UPDATE');
      if (cur.owner_id !== userId) throw forbidden('Only the owner can change this queue');
      await tx.query('UPDATE queues SET senders = $2::bigint[], consumers = $3::bigint[], max_attempts = $4 WHERE id = $1', [
        cur.id,
        s.senders === undefined ? cur.senders : s.senders,
        s.consumers === undefined ? cur.consumers : s.consumers,
        s.maxAttempts ?? cur.max_attempts,
      ]);
    });
    return this.get(userId, name);
  }

  /** Removes the queue with every message (dead letters too); live consumers get `queue:deleted`. */
  async delete(userId: string, name: string): Promise<void> {
    const queueId = await deleteOwned(this.d.db, QUEUE, name, userId);
    this.d.events.emit('queue:deleted', { queueId, name });
  }

  /** Durable before it resolves. */
  async send(userId: string, name: string, inputs: MessageInput[]): Promise<QueueMessage[]> {
    const payloads = preparePayloads(inputs, this.d.config.MESSAGE_MAX_BYTES);
    return this.sender.submit(name, { userId, payloads });
  }

  private async flush(name: string, jobs: SendJob[]): Promise<(QueueMessage[] | Error)[]> {
    const out = await this.d.db.transaction(async (tx) => {
      // FOR SHARE: a concurrent delete of the queue waits for this insert instead of breaking its foreign key.
      const q = await this.row(tx, name, 'FOR SHARE');
      const { refused, accepted } = acceptWriters(jobs, q.senders, q.owner_id, this.d.ids, 'You may not send to this queue');
      if (accepted.length === 0) return { queueId: q.id, results: resultsPerJob<QueueMessage>(jobs.length, refused, []), sent: 0 };
      const arrays = payloadArrays(accepted.map((a) => a.payload));
      const [now] = await tx.query<{ now: Date }>(
        `WITH ins AS (
           INSERT INTO queue_messages (queue_id, id, data, bytes, content_type, published_by)
           SELECT $1, i, d::json, decode(b, 'base64'), c, p FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[]) AS u(i, d, b, c, p)
           RETURNING 1)
         SELECT now() AS now FROM ins LIMIT 1`,
        [q.id, accepted.map((a) => a.id), arrays.json, arrays.base64, arrays.contentType, accepted.map((a) => a.userId)],
      );
      const written = accepted.map((a) => ({ job: a.job, message: { ...writtenMessage(a, now!.now), attempts: 0 } }));
      return { queueId: q.id, results: resultsPerJob(jobs.length, refused, written), sent: accepted.length };
    });
    if (out.sent > 0) this.d.events.emit('queue:sent', { queueId: out.queueId, name });
    return out.results;
  }

  async receive(userId: string, name: string, max: number, visibilitySeconds: number): Promise<Lease> {
    const q = await this.consumable(userId, name);
    return this.lease(q.id, q.max_attempts, userId, max, visibilitySeconds);
  }

  /** Messages whose last lease ran out after maxAttempts deliveries go to the dead-letter list. */
  private async buryExpired(queueId: string, maxAttempts: number): Promise<void> {
    await this.d.db.query(
      `UPDATE queue_messages m SET dead_at = now() FROM (
         SELECT id FROM queue_messages
          WHERE queue_id = $1 AND dead_at IS NULL AND attempts > 0 AND visible_at <= now() AND attempts >= $2
          ORDER BY visible_at LIMIT 1000 FOR UPDATE SKIP LOCKED) d
        WHERE m.id = d.id`,
      [queueId, maxAttempts],
    );
  }

  /** Leases up to `max` visible messages of a queue to one consumer (the caller checked access). */
  async lease(queueId: string, maxAttempts: number, userId: string, max: number, visibilitySeconds: number): Promise<Lease> {
    await this.buryExpired(queueId, maxAttempts);
    const leaseId = this.d.ids.next();
    const rows = await this.d.db.query<QueueMessageRow>(
      `UPDATE queue_messages m SET attempts = m.attempts + 1, visible_at = now() + make_interval(secs => $3), leased_by = $4, lease_id = $5
         FROM (SELECT id FROM queue_messages WHERE queue_id = $1 AND dead_at IS NULL AND visible_at <= now() AND attempts < $6
                ORDER BY visible_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) p
        WHERE m.id = p.id
        RETURNING ${MESSAGE_COLUMNS.split(', ').map((c) => `m.${c}`).join(', ')}`,
      [queueId, max, visibilitySeconds, userId, leaseId, maxAttempts],
    );
    rows.sort((a, b) => a.visible_at.getTime() - b.visible_at.getTime() || (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    return { leaseId, items: rows.map(toLeased) };
  }

  /** Which of these queues have a message ready now (for socket consumers checking for redeliveries). */
  async withReadyMessages(queueIds: string[]): Promise<string[]> {
    const rows = await this.d.db.query<{ q: string }>(
      `SELECT q FROM unnest($1::bigint[]) AS q
        WHERE EXISTS (SELECT 1 FROM queue_messages WHERE queue_id = q AND dead_at IS NULL AND visible_at <= now())`,
      [queueIds],
    );
    return rows.map((r) => r.q);
  }

  /** Deletes messages whose lease is still running; the others are reported missing. */
  async ack(userId: string, name: string, ids: string[]): Promise<{ acked: string[]; missing: string[] }> {
    const q = await this.consumable(userId, name);
    return this.ackIn(q.id, ids);
  }

  async ackIn(queueId: string, ids: string[]): Promise<{ acked: string[]; missing: string[] }> {
    const rows = await this.d.db.query<{ id: string }>(
      `DELETE FROM queue_messages WHERE queue_id = $1 AND id = ANY($2::bigint[]) AND dead_at IS NULL AND attempts > 0 AND visible_at > now()
        RETURNING id`,
      [queueId, ids],
    );
    const acked = new Set(rows.map((r) => r.id));
    return { acked: ids.filter((i) => acked.has(i)), missing: ids.filter((i) => !acked.has(i)) };
  }

  /** Ends the unacked leases of one receive call now (a socket consumer went away), so another consumer gets them. */
  async release(leaseIds: string[], ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const rows = await this.d.db.query(
      'UPDATE queue_messages SET visible_at = now() WHERE id = ANY($1::bigint[]) AND lease_id = ANY($2::bigint[]) AND dead_at IS NULL AND visible_at > now() RETURNING 1',
      [ids, leaseIds],
    );
    return rows.length;
  }

  async deadLetters(userId: string, name: string, q: { limit: number; cursor?: string }): Promise<{ items: QueueMessage[]; next: string | null }> {
    const queue = await this.consumable(userId, name);
    await this.buryExpired(queue.id, queue.max_attempts);
    const rows = await this.d.db.query<QueueMessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM queue_messages WHERE queue_id = $1 AND dead_at IS NOT NULL AND ($2::bigint IS NULL OR id > $2)
        ORDER BY id LIMIT $3`,
      [queue.id, q.cursor ?? null, q.limit + 1],
    );
    return page(rows, q.limit, toDead, (r) => r.id);
  }

  /** Puts dead letters (the given ones, or all) back on the queue with their attempts reset. Owner only. */
  async redrive(userId: string, name: string, ids?: string[]): Promise<{ redriven: number }> {
    const q = await this.row(this.d.db, name);
    if (q.owner_id !== userId) throw forbidden('Only the owner can re-drive dead letters');
    const rows = await this.d.db.query(
      `UPDATE queue_messages SET dead_at = NULL, attempts = 0, visible_at = now(), leased_by = NULL, lease_id = NULL
        WHERE queue_id = $1 AND dead_at IS NOT NULL AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[])) RETURNING 1`,
      [q.id, ids ?? null],
    );
    if (rows.length > 0) this.d.events.emit('queue:sent', { queueId: q.id, name });
    return { redriven: rows.length };
  }
}
