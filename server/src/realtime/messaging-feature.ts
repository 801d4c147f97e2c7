import { z } from 'zod';
import type { Config } from '../config.ts';
import { FlockError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { MessagingEvents } from '../messaging/messaging-events.ts';
import type { QueueService } from '../messaging/queues.ts';
import type { TopicService } from '../messaging/topics.ts';
import { messagingName, visibilitySeconds } from '../routes/messaging-routes.ts';
import { id } from '../routes/schemas.ts';
import type { MessagingSignal } from './messaging-signal.ts';
import { QueueConsumer } from './queue-consumer.ts';
import { onAck, type FlockIo, type FlockSocket, type SocketFeature } from './socket-feature.ts';
import { TopicSubscription } from './topic-subscription.ts';

/** Subscriptions plus consumers one socket may hold. */
const MAX_PER_SOCKET = 100;

const subscribeRequest = z.strictObject({ name: messagingName, fromOffset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional() });
const nameRequest = z.strictObject({ name: messagingName });
const consumeRequest = z.strictObject({
  name: messagingName,
  max: z.number().int().min(1).max(100).optional(),
  visibilitySeconds: visibilitySeconds.optional(),
});
const ackRequest = z.strictObject({ name: messagingName, ids: z.array(id).min(1).max(1000) });

interface PerSocket {
  topics: Map<string, TopicSubscription>;
  queues: Map<string, QueueConsumer>;
}

/**
 * Live topics and queues over the socket: `topic:subscribe` (replay from an
 * offset, then live), `topic:unsubscribe`, `queue:consume`, `queue:ack`,
 * `queue:cancel`. A commit on any node reaches the subscribers of every node:
 * the local ones directly, the others through the Socket.IO adapter
 * (`serverSideEmit`), each node then delivering to its own sockets by cursor.
 * Because that path is at-most-once, a periodic check (MESSAGING_SWEEP_MS)
 * compares each subscribed topic's last offset and each consumed queue's ready
 * messages with what was delivered, and reads the rest from the tables.
 */
export class MessagingFeature implements SocketFeature {
  readonly events = ['topic:subscribe', 'topic:unsubscribe', 'queue:consume', 'queue:cancel', 'queue:ack'] as const;
  private readonly byTopic = new Map<string, Set<TopicSubscription>>();
  private readonly byQueue = new Map<string, Set<QueueConsumer>>();
  private readonly sockets = new WeakMap<FlockSocket, PerSocket>();
  private readonly timer: NodeJS.Timeout;
  private ticking = false;

  constructor(
    private readonly d: {
      config: Config;
      log: Logger;
      io: FlockIo;
      /** True when other nodes share the adapter (Redis): signals are sent to them too. */
      clustered: boolean;
      topics: TopicService;
      queues: QueueService;
      events: MessagingEvents;
    },
  ) {
    d.events.on('topic:published', (e) => this.signal({ kind: 'published', topicId: e.topicId, messages: e.messages }));
    d.events.on('topic:deleted', (e) => this.signal({ kind: 'topic-deleted', topicId: e.topicId }));
    d.events.on('queue:sent', (e) => this.signal({ kind: 'queue-ready', queueId: e.queueId }));
    d.events.on('queue:deleted', (e) => this.signal({ kind: 'queue-deleted', queueId: e.queueId }));
    if (d.clustered) d.io.on('flock:messaging', (s) => this.local(s));
    this.timer = setInterval(() => void this.tick(), d.config.MESSAGING_SWEEP_MS);
    this.timer.unref();
  }

  private signal(s: MessagingSignal): void {
    this.local(s);
    if (this.d.clustered) this.d.io.serverSideEmit('flock:messaging', s);
  }

  private local(s: MessagingSignal): void {
    switch (s.kind) {
      case 'published':
        for (const sub of this.byTopic.get(s.topicId) ?? []) sub.onLive(s.messages);
        break;
      case 'topic-deleted':
        for (const sub of this.byTopic.get(s.topicId) ?? []) {
          sub.deleted();
          this.per(sub.socket).topics.delete(sub.topic);
        }
        this.byTopic.delete(s.topicId);
        break;
      case 'queue-ready':
        for (const c of this.byQueue.get(s.queueId) ?? []) void c.pull();
        break;
      case 'queue-deleted':
        for (const c of this.byQueue.get(s.queueId) ?? []) {
          c.deleted();
          this.per(c.socket).queues.delete(c.o.queue);
        }
        this.byQueue.delete(s.queueId);
        break;
    }
  }

  private per(socket: FlockSocket): PerSocket {
    let p = this.sockets.get(socket);
    if (!p) this.sockets.set(socket, (p = { topics: new Map(), queues: new Map() }));
    return p;
  }

  attach(socket: FlockSocket): void {
    const { userId } = socket.data;
    const log = this.d.log;
    const mine = this.per(socket);
    const room = (name: string, held: Map<string, unknown>) => {
      if (!held.has(name) && mine.topics.size + mine.queues.size >= MAX_PER_SOCKET) {
        throw new FlockError('FLOCK_ERR_VALIDATION', `At most ${MAX_PER_SOCKET} subscriptions and consumers per socket`);
      }
    };

    onAck(socket, 'topic:subscribe', subscribeRequest, async (req) => {
      room(req.name, mine.topics);
      const pos = await this.d.topics.position(userId, req.name);
      const from = req.fromOffset === undefined ? pos.lastOffset + 1 : Math.max(req.fromOffset, pos.firstOffset, 1);
      this.unsubscribe(socket, req.name);
      const sub = new TopicSubscription(socket, req.name, pos.topicId, from, (t, after, n) => this.d.topics.readById(t, after, n), log);
      mine.topics.set(req.name, sub);
      add(this.byTopic, pos.topicId, sub);
      // Registered first, then read: whatever commits meanwhile is either read or arrives live.
      void sub.catchUp();
      return { fromOffset: from };
    }, log);

    onAck(socket, 'topic:unsubscribe', nameRequest, async (req) => {
      this.unsubscribe(socket, req.name);
      return {};
    }, log);

    onAck(socket, 'queue:consume', consumeRequest, async (req) => {
      room(req.name, mine.queues);
      const q = await this.d.queues.consumable(userId, req.name);
      await this.cancel(socket, req.name);
      const c = new QueueConsumer(
        socket,
        { userId, queue: req.name, queueId: q.id, maxAttempts: q.max_attempts, max: req.max ?? 10, visibilitySeconds: req.visibilitySeconds ?? 30 },
        this.d.queues,
        log,
      );
      mine.queues.set(req.name, c);
      add(this.byQueue, q.id, c);
      void c.pull();
      return {};
    }, log);

    onAck(socket, 'queue:cancel', nameRequest, async (req) => {
      await this.cancel(socket, req.name);
      return {};
    }, log);

    onAck(socket, 'queue:ack', ackRequest, async (req) => {
      const c = mine.queues.get(req.name);
      return c ? c.ack(req.ids) : this.d.queues.ack(userId, req.name, req.ids);
    }, log);

    socket.on('disconnect', () => {
      for (const name of [...mine.topics.keys()]) this.unsubscribe(socket, name);
      for (const name of [...mine.queues.keys()]) void this.cancel(socket, name);
    });
  }

  private unsubscribe(socket: FlockSocket, name: string): void {
    const mine = this.per(socket);
    const sub = mine.topics.get(name);
    if (!sub) return;
    sub.close();
    mine.topics.delete(name);
    remove(this.byTopic, sub.topicId, sub);
  }

  private async cancel(socket: FlockSocket, name: string): Promise<void> {
    const mine = this.per(socket);
    const c = mine.queues.get(name);
    if (!c) return;
    mine.queues.delete(name);
    remove(this.byQueue, c.o.queueId, c);
    await c.close();
  }

  /** Recovers what a lost signal did not bring: topics with committed offsets not yet delivered, queues with ready messages. */
  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const topicIds = [...this.byTopic.keys()];
      if (topicIds.length > 0) {
        for (const t of await this.d.topics.lastOffsets(topicIds)) {
          for (const sub of this.byTopic.get(t.topicId) ?? []) if (sub.next <= t.lastOffset) void sub.catchUp();
        }
      }
      const queueIds = [...this.byQueue.entries()].filter(([, cs]) => [...cs].some((c) => c.hasRoom())).map(([q]) => q);
      if (queueIds.length > 0) {
        for (const q of await this.d.queues.withReadyMessages(queueIds)) for (const c of this.byQueue.get(q) ?? []) void c.pull();
      }
    } catch (err) {
      this.d.log.warn({ err: (err as Error).message }, 'messaging check failed');
    } finally {
      this.ticking = false;
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}

function add<T>(m: Map<string, Set<T>>, k: string, v: T): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}

function remove<T>(m: Map<string, Set<T>>, k: string, v: T): void {
  const s = m.get(k);
  if (!s) return;
  s.delete(v);
  if (s.size === 0) m.delete(k);
}
