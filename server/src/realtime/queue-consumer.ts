import type { QueueMessage } from '@flock/client/protocol';
import type { Logger } from '../logger.ts';
import type { Lease, QueueService } from '../messaging/queues.ts';
import { Rerun } from './rerun.ts';
import type { FlockSocket } from './socket-feature.ts';

export interface ConsumerOptions {
  userId: string;
  queue: string;
  queueId: string;
  maxAttempts: number;
  /** Most unacked messages this socket holds. */
  max: number;
  visibilitySeconds: number;
}

/**
 * A socket consuming a queue: the server leases messages to it (the same
 * leases as HTTP receive, through QueueService.lease) and pushes them as
 * `queue:message`, keeping at most `max` unacked at once. An ack (socket or
 * HTTP) deletes a message; an unacked one returns to the queue when its lease
 * ends, or at once when the socket goes away (its leases are released).
 */
export class QueueConsumer {
  /** Unacked message id → lease id and lease end (ms). */
  private readonly inflight = new Map<string, { leaseId: string; until: number }>();
  private readonly puller = new Rerun(
    () => this.leaseAndPush(),
    (err) => this.log.warn({ err: (err as Error).message, queue: this.o.queue }, 'queue consumer pull failed; will retry'),
  );
  private closed = false;

  constructor(
    readonly socket: FlockSocket,
    readonly o: ConsumerOptions,
    private readonly queues: QueueService,
    private readonly log: Logger,
  ) {}

  /** Room for more messages (leases that ended count as returned). */
  hasRoom(): boolean {
    this.expire();
    return !this.closed && this.inflight.size < this.o.max;
  }

  /** Leases what is ready, up to the free room, and pushes it (once more if asked again meanwhile). */
  pull(): Promise<void> {
    return this.puller.run();
  }

  private async leaseAndPush(): Promise<void> {
    if (!this.hasRoom()) return;
    const lease: Lease = await this.queues.lease(this.o.queueId, this.o.maxAttempts, this.o.userId, this.o.max - this.inflight.size, this.o.visibilitySeconds);
    if (this.closed) {
      await this.queues.release([lease.leaseId], lease.items.map((m) => m.id));
      return;
    }
    for (const m of lease.items) this.push(lease.leaseId, m);
  }

  private push(leaseId: string, m: QueueMessage): void {
    this.inflight.set(m.id, { leaseId, until: Date.parse(m.leaseExpiresAt!) });
    this.socket.emit('queue:message', { id: m.id, queue: this.o.queue, message: m });
  }

  private expire(): void {
    const now = Date.now();
    for (const [id, l] of this.inflight) if (l.until <= now) this.inflight.delete(id);
  }

  async ack(ids: string[]): Promise<{ acked: string[]; missing: string[] }> {
    const res = await this.queues.ackIn(this.o.queueId, ids);
    for (const id of ids) this.inflight.delete(id);
    void this.pull();
    return res;
  }

  /** Terminal: the queue is gone. */
  deleted(): void {
    if (this.closed) return;
    this.socket.emit('queue:deleted', { id: `queue-deleted:${this.o.queueId}`, queue: this.o.queue });
    this.closed = true;
    this.inflight.clear();
  }

  /** Stops consuming and gives the unacked messages back to the queue now. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const leases = [...new Set([...this.inflight.values()].map((l) => l.leaseId))];
    const ids = [...this.inflight.keys()];
    this.inflight.clear();
    await this.queues.release(leases, ids).catch((err: unknown) => {
      this.log.warn({ err: (err as Error).message, queue: this.o.queue }, 'could not release leases; they return when they end');
    });
  }
}
