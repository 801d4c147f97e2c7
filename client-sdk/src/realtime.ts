import { io, type Socket } from 'socket.io-client';
import { FlockApiError } from './api-error.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import type { LedgerKind, RecentIds } from './event-ledger.ts';
import { compareIds } from './ids.ts';
import {
  DISCONNECT_CODES,
  ERRORS,
  isErrorCode,
  isReconnectCode,
  type ClientToServerEvents,
  type DisconnectNotice,
  type Notification,
  type NotificationEvent,
  type Page,
  type ServerToClientEvents,
  type SyncRequest,
  type Tweet,
  type TweetEvent,
} from './protocol/index.ts';
import type { Session } from './session.ts';

type FlockSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'stopped';

export interface ConnectionStatus {
  state: ConnectionState;
  /** disconnected: when the next attempt starts. */
  retryInMs?: number;
  /** Why the connection ended or was refused (a FLOCK_ERR_* code or a Socket.IO reason). */
  reason?: string;
  /** The server's notice, when it closed the socket itself. */
  notice?: DisconnectNotice;
}

export interface SocketOptions {
  /** @default '/socket.io' */
  path?: string;
  /** @default ['websocket', 'polling'] (WebSocket first, long-polling where it is blocked) */
  transports?: ('websocket' | 'polling')[];
  /** Handshake timeout, ms. @default 10000 */
  connectTimeoutMs?: number;
  /** How long to wait for the `sync` answer before reconnecting, ms. @default 15000 */
  syncTimeoutMs?: number;
  /** Drop the socket on the platform's `offline` event and reconnect at once on `online`. @default true */
  watchNetwork?: boolean;
}

export interface RealtimeDeps {
  baseUrl: string;
  session: Session;
  socket: SocketOptions;
  backoff: BackoffOptions;
  tweets: LedgerKind;
  notifications: LedgerKind;
  others: RecentIds;
  /** HTTP pages beyond one `sync` answer (they bypass the ledger hooks: the ledger decides here). */
  more: {
    timeline(sinceId: string | undefined, cursor: string): Promise<Page<Tweet>>;
    notifications(after: string | undefined, cursor: string | undefined, limit: number): Promise<Page<Notification>>;
  };
  deliver(event: string, payload: unknown): void;
  status(s: ConnectionStatus): void;
  synced(counts: { tweets: number; notifications: number }): void;
}

type Buffered = [event: string, payload: unknown];
type AckOf<F> = F extends (req: infer R, ack: (res: infer A) => void) => void ? { req: R; res: A } : never;

/**
 * The one socket of a client: connects with the current access token, refreshes it once when the
 * handshake says FLOCK_ERR_TOKEN_EXPIRED, reconnects with backoff and jitter, and after every
 * connect asks `sync` for what it missed. Events are handed on through the ledger, so each tweet
 * and notification reaches the application once, and a sync's catch-up in id order.
 */
export class Realtime {
  private socket: FlockSocket | null = null;
  private running = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** While a sync is in flight, live events wait here so the catch-up can be delivered in order. */
  private buffer: Buffered[] | null = null;
  private refreshedForAttempt = false;
  private unwatch: (() => void) | null = null;

  constructor(private readonly d: RealtimeDeps) {}

  get connected(): boolean {
    return this.socket?.connected === true && this.buffer === null;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.watchNetwork();
    this.open();
  }

  stop(reason = 'stopped by the application'): void {
    const was = this.running;
    this.running = false;
    this.unwatch?.();
    this.unwatch = null;
    this.drop();
    if (was) this.d.status({ state: 'stopped', reason });
  }

  /** A client → server call with ack; rejects with FlockApiError on `{ok: false}`. */
  async call<E extends keyof ClientToServerEvents>(
    event: E,
    req: AckOf<ClientToServerEvents[E]>['req'],
    timeoutMs = 10_000,
  ): Promise<Extract<AckOf<ClientToServerEvents[E]>['res'], { ok: true }>> {
    const socket = this.socket;
    if (!socket?.connected) throw new FlockApiError(503, 'FLOCK_ERR_UNAVAILABLE', 'The socket is not connected');
    const timed = socket.timeout(timeoutMs) as unknown as { emitWithAck(e: string, r: unknown): Promise<unknown> };
    const res = (await timed.emitWithAck(event, req)) as { ok: boolean; error?: { code: unknown; message: string; details?: unknown } };
    if (!res.ok) {
      const code = isErrorCode(res.error?.code) ? res.error.code : 'FLOCK_ERR_INTERNAL';
      throw new FlockApiError(ERRORS[code].status, code, res.error?.message ?? code, res.error?.details);
    }
    return res as Extract<AckOf<ClientToServerEvents[E]>['res'], { ok: true }>;
  }

  private drop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.buffer = null;
    const s = this.socket;
    this.socket = null; // its late events and its 'disconnect' are ignored from here on
    if (s) {
      s.removeAllListeners();
      s.offAny();
      s.disconnect();
    }
  }

  private open(): void {
    this.drop();
    if (!this.running) return;
    if (!this.d.session.current) {
      this.stop('FLOCK_ERR_UNAUTHORIZED');
      return;
    }
    const o = this.d.socket;
    const socket: FlockSocket = io(this.d.baseUrl, {
      path: o.path ?? '/socket.io',
      transports: o.transports ?? ['websocket', 'polling'],
      // Where a proxy blocks WebSocket, fall back to long-polling instead of failing every attempt.
      tryAllTransports: true,
      timeout: o.connectTimeoutMs ?? 10_000,
      reconnection: false, // the loop below decides, with the server's notices and token refresh in mind
      forceNew: true,
      autoConnect: false,
      // Read at each attempt, so a refreshed token is used without rebuilding anything.
      auth: (cb) => cb({ token: this.d.session.current?.accessToken ?? '' }),
    });
    this.socket = socket;
    let notice: DisconnectNotice | null = null;
    socket.on('connect', () => {
      this.refreshedForAttempt = false;
      void this.sync(socket);
    });
    socket.on('connect_error', (err) => {
      if (socket === this.socket) this.onConnectError(err as Error & { data?: { code?: string } });
    });
    socket.on('flock:disconnect', (n) => {
      notice = n;
    });
    socket.on('disconnect', (reason) => {
      if (socket === this.socket) this.onDisconnect(reason, notice);
    });
    socket.onAny((event: string, payload: unknown) => {
      if (socket !== this.socket || event === 'flock:disconnect') return;
      if (this.buffer) this.buffer.push([event, payload]);
      else this.deliverOne(event, payload);
    });
    this.d.status({ state: 'connecting' });
    socket.connect();
  }

  private onConnectError(err: Error & { data?: { code?: string } }): void {
    const code = err.data?.code;
    if (code === 'FLOCK_ERR_TOKEN_EXPIRED' && !this.refreshedForAttempt) {
      this.refreshedForAttempt = true;
      const stale = this.d.session.current?.accessToken ?? null;
      this.d.session.refresh(stale).then(
        () => this.running && this.open(),
        (e: unknown) => {
          if (!this.d.session.current) this.stop((e as FlockApiError).code ?? 'FLOCK_ERR_REFRESH_INVALID');
          else this.schedule(code);
        },
      );
      return;
    }
    // Refreshed and still expired (a clock far off?): back off, and refresh again next time.
    this.refreshedForAttempt = false;
    if (code === 'FLOCK_ERR_UNAUTHORIZED') {
      // A revoked or forged token will not get better by retrying.
      this.stop(code);
      return;
    }
    this.schedule(code ?? err.message);
  }

  private onDisconnect(reason: string, notice: DisconnectNotice | null): void {
    this.buffer = null;
    if (notice && !isReconnectCode(notice.code)) {
      this.drop();
      this.running = false;
      this.d.status({ state: 'stopped', reason: notice.reason, notice });
      if (notice.code === DISCONNECT_CODES.LOGGED_OUT || notice.code === DISCONNECT_CODES.ACCOUNT_DELETED) void this.d.session.clear();
      return;
    }
    this.schedule(reason, notice ?? undefined);
  }

  private schedule(reason?: string, notice?: DisconnectNotice): void {
    if (!this.running) return;
    this.drop();
    const delay = backoffDelay(this.attempt++, this.d.backoff);
    this.d.status({ state: 'disconnected', retryInMs: delay, ...(reason ? { reason } : {}), ...(notice ? { notice } : {}) });
    this.timer = setTimeout(() => this.open(), delay);
  }

  private async sync(socket: FlockSocket): Promise<void> {
    const { tweets, notifications } = this.d;
    this.buffer = [];
    try {
      const req: SyncRequest = {};
      if (tweets.newest) req.timelineSinceId = tweets.newest;
      if (notifications.newest) req.notificationsAfter = notifications.newest;
      const res = await this.call('sync', req, this.d.socket.syncTimeoutMs ?? 15_000);
      const timeline = [...res.timeline.items];
      const notes = [...res.notifications.items];
      // More than one answer holds: page the rest over HTTP, from the same cursors.
      for (let c = res.timeline.next; c && tweets.known; ) {
        const p = await this.d.more.timeline(req.timelineSinceId, c);
        timeline.push(...p.items);
        c = p.next;
      }
      for (let c = res.notifications.next; c && notifications.known; ) {
        const p = await this.d.more.notifications(req.notificationsAfter, c, 100);
        notes.push(...p.items);
        c = p.next;
      }
      if (socket !== this.socket) return;
      // A kind the client has never seen: what exists now is history, not news.
      if (!tweets.known) {
        tweets.markSeen(timeline.map((t) => t.id));
        tweets.raiseFloor(newestOf(timeline) ?? '0');
        timeline.length = 0;
      }
      if (!notifications.known) {
        let floor = res.notifications.next === null ? (newestOf(notes) ?? '0') : null;
        floor ??= (await this.d.more.notifications(undefined, undefined, 1)).items[0]?.id ?? '0';
        if (socket !== this.socket) return;
        notifications.markSeen(notes.map((n) => n.id));
        notifications.raiseFloor(floor);
        notes.length = 0;
      }
      const buffered = this.buffer ?? [];
      this.buffer = null;
      const tweetEvents: TweetEvent[] = timeline.map((t) => ({ id: t.id, tweet: t }));
      const noteEvents: NotificationEvent[] = notes.map((n) => ({ id: n.id, notification: n }));
      const rest: Buffered[] = [];
      for (const [event, payload] of buffered) {
        if (event === 'tweet' && hasId(payload)) tweetEvents.push(payload as TweetEvent);
        else if (event === 'notification' && hasId(payload)) noteEvents.push(payload as NotificationEvent);
        else rest.push([event, payload]);
      }
      const counts = { tweets: 0, notifications: 0 };
      for (const e of tweetEvents.sort((a, b) => compareIds(a.id, b.id))) if (this.deliverOne('tweet', e)) counts.tweets++;
      for (const e of noteEvents.sort((a, b) => compareIds(a.id, b.id))) if (this.deliverOne('notification', e)) counts.notifications++;
      for (const [event, payload] of rest) this.deliverOne(event, payload);
      this.attempt = 0;
      this.d.synced(counts);
      this.d.status({ state: 'connected' });
    } catch (err) {
      if (socket !== this.socket) return;
      // Without the catch-up the socket would silently miss events: start over.
      this.schedule(`sync failed: ${(err as Error).message}`);
    }
  }

  /** Hands one event to the application unless it is a repeat; true when delivered. */
  private deliverOne(event: string, payload: unknown): boolean {
    if (event === 'tweet' || event === 'notification') {
      if (!hasId(payload)) return false;
      const ledger = event === 'tweet' ? this.d.tweets : this.d.notifications;
      if (!ledger.accept(payload.id)) return false;
    } else if (event !== 'queue:message' && hasId(payload) && !this.d.others.accept(event, payload.id)) {
      // Queue messages are the exception: a redelivery after an expired lease is news, not a repeat.
      return false;
    }
    this.d.deliver(event, payload);
    return true;
  }

  private watchNetwork(): void {
    const g = globalThis as unknown as {
      addEventListener?: (t: string, f: () => void) => void;
      removeEventListener?: (t: string, f: () => void) => void;
    };
    if (this.d.socket.watchNetwork === false || typeof g.addEventListener !== 'function' || typeof g.removeEventListener !== 'function') return;
    // Browsers keep a dead WebSocket "open" until pings time out; the platform knows sooner.
    const offline = () => {
      if (this.running && this.socket) this.schedule('offline');
    };
    const online = () => {
      if (!this.running || this.socket?.connected) return;
      this.attempt = 0;
      this.open();
    };
    g.addEventListener('offline', offline);
    g.addEventListener('online', online);
    this.unwatch = () => {
      g.removeEventListener!('offline', offline);
      g.removeEventListener!('online', online);
    };
  }
}

function hasId(p: unknown): p is { id: string } {
  return typeof p === 'object' && p !== null && typeof (p as { id?: unknown }).id === 'string';
}

function newestOf(items: { id: string }[]): string | null {
  let best: string | null = null;
  for (const i of items) if (best === null || compareIds(i.id, best) > 0) best = i.id;
  return best;
}
