import type { RedisClient } from '../redis/open-redis.ts';

/**
 * What other nodes must drop from their in-process caches (LocalCache) after a commit:
 * - `session`: sessions that ended (logout, refresh-token reuse);
 * - `user`: deleted accounts (all their sessions; their author summaries go by `author`);
 * - `author`: users whose summary (handle, name, avatar) changed;
 * - `tweet`: tweets whose cached body changed (edit, delete, counts).
 */
export interface Invalidation {
  kind: 'session' | 'user' | 'author' | 'tweet';
  ids: string[];
}

/**
 * The cluster bus of the in-process caches. `publish` applies the invalidation on this node at
 * once (synchronously, before the writer answers) and sends it to every other node. Delivery to
 * the others is at most once: `connected()` is false while this node may be missing messages, and
 * `onGap` handlers run whenever it may have missed some, so caches drop everything then.
 */
export interface InvalidationBus {
  publish(msg: Invalidation): void;
  subscribe(handler: (msg: Invalidation) => void): void;
  onGap(handler: () => void): void;
  connected(): boolean;
}

/**
 * No Redis, so no way to reach other nodes. `alone`: this node is certainly the only one (the
 * embedded PGlite database belongs to one process), so in-process caches are safe. Otherwise
 * (PostgreSQL without Redis) other nodes may share the database and would never hear of a logout
 * here: `connected()` is false and the in-process caches stay off.
 */
export class LocalBus implements InvalidationBus {
  private readonly handlers: ((msg: Invalidation) => void)[] = [];

  constructor(private readonly alone: boolean) {}

  publish(msg: Invalidation): void {
    for (const h of this.handlers) h(msg);
  }

  subscribe(handler: (msg: Invalidation) => void): void {
    this.handlers.push(handler);
  }

  onGap(): void {}

  connected(): boolean {
    return this.alone;
  }
}

/** The server-to-server emit of the Socket.IO Redis adapter, the bus the socket kicks use too. */
export interface ServerSideChannel {
  emit(msg: Invalidation): void;
  on(handler: (msg: Invalidation) => void): void;
}

const isInvalidation = (m: unknown): m is Invalidation =>
  typeof m === 'object' &&
  m !== null &&
  ['session', 'user', 'author', 'tweet'].includes((m as Invalidation).kind) &&
  Array.isArray((m as Invalidation).ids) &&
  (m as Invalidation).ids.every((id) => typeof id === 'string');

/**
 * Nodes sharing Redis: messages travel over the socket adapter's pub/sub (attached once the
 * socket server exists; nothing is served before). The health of the adapter's subscriber
 * connection decides `connected()`: while it is down, or has just come back (a message published
 * meanwhile is lost), the caches neither serve nor keep anything.
 */
export class ClusterBus implements InvalidationBus {
  private readonly handlers: ((msg: Invalidation) => void)[] = [];
  private readonly gapHandlers: (() => void)[] = [];
  private channel: ServerSideChannel | null = null;

  constructor(private readonly subscriber: RedisClient) {
    const gap = () => {
      for (const h of this.gapHandlers) h();
    };
    for (const event of ['close', 'end', 'reconnecting', 'ready', '+node', '-node']) subscriber.on(event, gap);
  }

  attach(channel: ServerSideChannel): void {
    this.channel = channel;
    channel.on((msg) => {
      if (!isInvalidation(msg)) return;
      for (const h of this.handlers) h(msg);
    });
  }

  publish(msg: Invalidation): void {
    for (const h of this.handlers) h(msg);
    this.channel?.emit(msg);
  }

  subscribe(handler: (msg: Invalidation) => void): void {
    this.handlers.push(handler);
  }

  onGap(handler: () => void): void {
    this.gapHandlers.push(handler);
  }

  connected(): boolean {
    return this.channel !== null && this.subscriber.status === 'ready';
  }
}
