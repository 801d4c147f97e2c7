import type { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';

/** The channel Redis publishes invalidations on when a tracking client redirects them to a RESP2 subscriber. */
export const INVALIDATE_CHANNEL = '__redis__:invalidate';

const DOWN_EVENTS = ['close', 'end', 'reconnecting'] as const;

/**
 * What the two connections must be opened with. RESP2 on both: Redis then sends reports as pub/sub
 * messages, which ioredis delivers (it drops RESP3 `invalidate` pushes), written in the
 * subscriber's protocol (FLUSHALL's null too). The subscriber is subscribed by RedisTracking on
 * every connect (it needs CLIENT ID first), not by ioredis.
 */
export const READER_OPTIONS = { protocol: 2 } as const;
export const SUBSCRIBER_OPTIONS = { protocol: 2, autoResubscribe: false } as const;

/**
 * Redis server-assisted client-side caching (https://redis.io/docs/latest/develop/reference/client-side-caching/)
 * for the pages NearPages keeps: `reader` runs the reads whose keys Redis remembers
 * (`CLIENT TRACKING ON REDIRECT <subscriber> NOLOOP`); whenever any client changes one of those
 * keys, or it expires or is evicted, Redis sends its name to `subscriber` (a RESP2 connection
 * subscribed to `__redis__:invalidate`; ioredis drops RESP3 `invalidate` pushes), and
 * `onInvalidate` runs with the names (null: everything, after FLUSHALL/FLUSHDB).
 *
 * `onReady(true)` only once both connections are up, the subscription is confirmed and tracking
 * is on with the subscriber's current id; `onReady(false)` the moment either connection drops
 * (an invalidation may be lost from then on), and again on every setup after a reconnect.
 * NOLOOP: the reader's own writes (the reads renew the keys' TTL) do not invalidate its pages.
 */
function serverRunId(info: string): string | null {
  return /^run_id:(\w+)/m.exec(info)?.[1] ?? null;
}

export class RedisTracking {
  /** The subscriber's id while it is subscribed; null otherwise. */
  private subscriberId: number | null = null;
  /** The run_id of the server the subscriber is connected to (a Sentinel failover can leave the two connections on different servers). */
  private subscriberRunId: string | null = null;
  /** Bumped whenever the subscriber drops, so a subscription overtaken by it does nothing. */
  private subscriberGeneration = 0;
  /** Bumped whenever either connection drops or tracking is set up again. */
  private trackingGeneration = 0;
  private closed = false;

  constructor(
    private readonly d: {
      reader: Redis;
      subscriber: Redis;
      onInvalidate: (keys: string[] | null) => void;
      onReady: (ready: boolean) => void;
      log: Logger;
    },
  ) {
    const { reader, subscriber } = d;
    subscriber.on('messageBuffer', (channel: Buffer, payload: unknown) => {
      if (channel.toString() !== INVALIDATE_CHANNEL) return;
      d.onInvalidate(Array.isArray(payload) ? payload.map((k: Buffer | string) => k.toString()) : null);
    });
    for (const event of DOWN_EVENTS) {
      subscriber.on(event, () => {
        this.subscriberGeneration++;
        this.subscriberId = null;
        this.down();
      });
      reader.on(event, () => this.down());
    }
    subscriber.on('ready', () => void this.subscribe());
    reader.on('ready', () => void this.track());
    if (subscriber.status === 'ready') void this.subscribe();
  }

  private down(): void {
    this.trackingGeneration++;
    this.d.onReady(false);
  }

  /** On every (re)connect of the subscriber: a fresh connection (no automatic resubscription), where CLIENT ID is still allowed. */
  private async subscribe(): Promise<void> {
    const generation = this.subscriberGeneration;
    try {
      const id = Number(await this.d.subscriber.client('ID'));
      const runId = serverRunId(await this.d.subscriber.info('server'));
      await this.d.subscriber.subscribe(INVALIDATE_CHANNEL);
      if (generation !== this.subscriberGeneration || this.closed) return;
      this.subscriberId = id;
      this.subscriberRunId = runId;
      await this.track();
    } catch (err) {
      this.failed(err);
    }
  }

  /** Turns the reader's tracking on towards the current subscriber; pages are kept from then on. */
  private async track(): Promise<void> {
    this.down();
    const generation = this.trackingGeneration;
    const { reader } = this.d;
    if (reader.status !== 'ready' || this.subscriberId === null) return;
    try {
      // A redirect to an id on another server would silently get no reports: both must be on one
      // server (after a Sentinel failover they may not be for a moment; their reconnects set up again).
      if (serverRunId(await reader.info('server')) !== this.subscriberRunId) {
        this.d.log.warn('timeline tracking: the reader and the invalidation connection reach different Redis servers; timeline pages are read from Redis until they agree');
        return;
      }
      // OFF first: a reader whose tracking still redirects to an old subscriber id is switched over.
      await reader.call('CLIENT', 'TRACKING', 'OFF');
      await reader.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(this.subscriberId), 'NOLOOP');
      if (generation === this.trackingGeneration && !this.closed) this.d.onReady(true);
    } catch (err) {
      this.failed(err);
    }
  }

  private failed(err: unknown): void {
    // A connection dropped during setup (its events start it again) or Redis refused tracking
    // (Redis < 6): pages are then simply not kept.
    if (!this.closed) this.d.log.warn({ err: (err as Error).message }, 'timeline tracking setup failed; timeline pages are read from Redis');
  }

  close(): void {
    this.closed = true;
    this.down();
  }
}
