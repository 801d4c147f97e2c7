import { authCalls, createApi, type FlockApi } from './api.ts';
import type { BackoffOptions } from './backoff.ts';
import { Emitter } from './emitter.ts';
import { LedgerKind, RecentIds } from './event-ledger.ts';
import { HttpClient, type Fetch } from './http-client.ts';
import type { AuthResult, ClientToServerEvents, LoginRequest, Me, RegisterRequest, ServerToClientEvents } from './protocol/index.ts';
import { Realtime, type ConnectionStatus, type SocketOptions } from './realtime.ts';
import { Session } from './session.ts';
import { memoryTokenStorage, type StoredTokens, type TokenStorage } from './token-storage.ts';

export interface FlockClientOptions {
  /** The gateway, e.g. `https://flock.example` (no trailing `/v1`). */
  baseUrl: string;
  /** Where the tokens live. @default memoryTokenStorage() */
  storage?: TokenStorage;
  /** @default globalThis.fetch */
  fetch?: Fetch;
  /** Open the socket whenever a session exists (after login, or tokens found in storage). @default true */
  autoConnect?: boolean;
  socket?: SocketOptions;
  /** Reconnect delays. @default { minDelayMs: 500, maxDelayMs: 30000, factor: 2 } */
  reconnect?: BackoffOptions;
}

export interface SessionInfo {
  userId: string;
  handle: string;
}

/** Everything `on()` can listen to: the server's events and the client's own. */
export type FlockClientEvents = ServerToClientEvents & {
  /** The socket's state: connecting, connected (and caught up), disconnected (retrying), stopped. */
  connection: (status: ConnectionStatus) => void;
  /** Logged in (also when tokens are found in storage), or logged out / session ended. */
  session: (session: SessionInfo | null) => void;
  /** A reconnect's catch-up finished; how many missed events it delivered. */
  synced: (counts: { tweets: number; notifications: number }) => void;
};

export type FlockClient = FlockApi & {
  auth: {
    register(req: RegisterRequest): Promise<AuthResult>;
    login(req: LoginRequest): Promise<AuthResult>;
    /** Rotates the token pair now (normally automatic on FLOCK_ERR_TOKEN_EXPIRED). */
    refresh(): Promise<void>;
    /** Revokes the session on the server (best effort) and clears tokens, socket and event state. */
    logout(): Promise<void>;
  };
  /** The logged-in account, or null. */
  readonly session: SessionInfo | null;
  /** True while the socket is connected and caught up. */
  readonly connected: boolean;
  on<E extends keyof FlockClientEvents>(event: E, handler: FlockClientEvents[E]): () => void;
  /** Any server event by name, for events newer than this SDK's protocol module. */
  onEvent(event: string, handler: (payload: unknown) => void): () => void;
  /** A client → server socket call with ack (e.g. `sync`); rejects with FlockApiError on `{ok: false}`. */
  call: Realtime['call'];
  connect(): void;
  disconnect(): void;
  /** Resolves once stored tokens (if any) are loaded. */
  ready(): Promise<SessionInfo | null>;
  /** Fetches the logged-in account. */
  me(): Promise<Me>;
};

/** A typed client for one Flock gateway: HTTP methods, the socket, tokens and exactly-once events. */
export function createFlockClient(options: FlockClientOptions): FlockClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const fetchFn = options.fetch ?? (globalThis.fetch.bind(globalThis) as unknown as Fetch);
  const autoConnect = options.autoConnect ?? true;
  const emitter = new Emitter<FlockClientEvents>();
  const raw = new Map<string, Set<(payload: unknown) => void>>();
  const tweets = new LedgerKind();
  const notifications = new LedgerKind();
  const others = new RecentIds();
  const info = (t: StoredTokens | null): SessionInfo | null => (t ? { userId: t.userId, handle: t.handle } : null);
  let lastUser: string | null = null;

  // eslint-disable-next-line prefer-const -- assigned after the session it needs
  let realtime: Realtime;
  const session = new Session(
    options.storage ?? memoryTokenStorage(),
    (refreshToken) => calls.refresh(refreshToken),
    (t) => {
      const user = t?.userId ?? null;
      if (user === lastUser) return; // a refresh: same account, the socket goes on
      // Another account (or none): what the ledger saw belongs to the previous one.
      tweets.reset();
      notifications.reset();
      others.reset();
      lastUser = user;
      realtime.stop('logged out');
      emitter.emit('session', info(t));
      if (t && autoConnect) realtime.start();
    },
  );
  const http = new HttpClient(baseUrl, fetchFn, session);
  const calls = authCalls(http);
  const api = createApi(http, {
    homePage(q, page) {
      tweets.markSeen(page.items.map((t) => t.id));
      if (!q.cursor && !q.max_id && !q.since_id && page.items.length === 0) tweets.raiseFloor('0');
    },
    notificationPage(q, page) {
      notifications.markSeen(page.items.map((n) => n.id));
      if (!q.cursor && !q.after && !q.unread && page.items.length === 0) notifications.raiseFloor('0');
    },
    accountDeleted: () => endLocally(),
  });
  realtime = new Realtime({
    baseUrl,
    session,
    socket: options.socket ?? {},
    backoff: options.reconnect ?? {},
    tweets,
    notifications,
    others,
    more: {
      timeline: (sinceId, cursor) => http.request('GET', '/v1/timeline/home', { auth: 'required', query: { since_id: sinceId, cursor, limit: 100 } }),
      notifications: (after, cursor, limit) => http.request('GET', '/v1/notifications', { auth: 'required', query: { after, cursor, limit } }),
    },
    deliver(event, payload) {
      emitter.emit(event as keyof ServerToClientEvents, payload as never);
      for (const h of [...(raw.get(event) ?? [])]) h(payload);
    },
    status: (s) => emitter.emit('connection', s),
    synced: (c) => emitter.emit('synced', c),
  });

  const endLocally = async (): Promise<void> => {
    realtime.stop('logged out');
    await session.clear();
    tweets.reset();
    notifications.reset();
    others.reset();
  };

  const signIn = async (p: Promise<AuthResult>): Promise<AuthResult> => {
    const auth = await p;
    await session.set(auth);
    return auth;
  };

  return {
    ...api,
    auth: {
      register: (req) => signIn(calls.register(req)),
      login: (req) => signIn(calls.login(req)),
      refresh: async () => void (await session.refresh(null)),
      async logout() {
        realtime.stop('logged out');
        const t = session.current;
        if (t) {
          // Best effort: the local session ends even when the server cannot be told.
          await http.request('POST', '/v1/auth/logout', { auth: 'required', body: { refreshToken: t.refreshToken } }).catch(() => {});
        }
        await endLocally();
      },
    },
    get session() {
      return info(session.current);
    },
    get connected() {
      return realtime.connected;
    },
    on: (event, handler) => emitter.on(event, handler),
    onEvent(event, handler) {
      let set = raw.get(event);
      if (!set) raw.set(event, (set = new Set()));
      set.add(handler);
      return () => void set.delete(handler);
    },
    call: ((event: keyof ClientToServerEvents, req: never, timeoutMs?: number) => realtime.call(event, req, timeoutMs)) as Realtime['call'],
    connect: () => realtime.start(),
    disconnect: () => realtime.stop(),
    ready: () => session.ready.then(() => info(session.current)),
    me: () => api.users.me(),
  };
}
