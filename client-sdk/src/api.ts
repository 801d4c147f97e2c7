import type { HttpClient } from './http-client.ts';
import { segment as s } from './http-client.ts';
import type {
  AuthResult,
  Comment,
  CreatedStream,
  CreateTweetRequest,
  FollowResult,
  LiveStream,
  LoginRequest,
  MarkReadResult,
  Me,
  NotificationPage,
  NotificationQuery,
  Page,
  PageQuery,
  Reaction,
  ReactionKind,
  ReactionQuery,
  ReactionSummary,
  RegisterRequest,
  Tweet,
  TweetListQuery,
  UpdateMeRequest,
  User,
} from './protocol/index.ts';

/** Typed methods for every HTTP route of DESIGN §3 (and the §7 streams routes). */
export interface ApiHooks {
  homePage(q: TweetListQuery, p: Page<Tweet>): void;
  notificationPage(q: NotificationQuery, p: NotificationPage): void;
  accountDeleted(): Promise<void>;
}

export function createApi(http: HttpClient, hooks: ApiHooks) {
  const get = <T>(path: string, query?: object, auth: 'optional' | 'required' | 'none' = 'optional') => http.request<T>('GET', path, { query, auth });
  const call = <T>(method: string, path: string, body?: unknown) => http.request<T>(method, path, { body, auth: 'required' });
  return {
    users: {
      me: () => get<Me>('/v1/users/me', undefined, 'required'),
      updateMe: (patch: UpdateMeRequest) => call<Me>('PATCH', '/v1/users/me', patch),
      /** Deletes the account and everything it owns; the client is logged out. */
      deleteMe: async () => {
        await call<void>('DELETE', '/v1/users/me');
        await hooks.accountDeleted();
      },
      get: (handle: string) => get<User>(`/v1/users/${s(handle)}`),
      tweets: (handle: string, q?: TweetListQuery) => get<Page<Tweet>>(`/v1/users/${s(handle)}/tweets`, q),
      followers: (handle: string, q?: PageQuery) => get<Page<User>>(`/v1/users/${s(handle)}/followers`, q),
      following: (handle: string, q?: PageQuery) => get<Page<User>>(`/v1/users/${s(handle)}/following`, q),
      follow: (handle: string) => call<FollowResult>('PUT', `/v1/users/${s(handle)}/follow`),
      unfollow: (handle: string) => call<FollowResult>('DELETE', `/v1/users/${s(handle)}/follow`),
    },
    tweets: {
      create: (req: CreateTweetRequest) => call<Tweet>('POST', '/v1/tweets', req),
      get: (id: string) => get<Tweet>(`/v1/tweets/${s(id)}`),
      edit: (id: string, text: string) => call<Tweet>('PATCH', `/v1/tweets/${s(id)}`, { text }),
      delete: (id: string) => call<void>('DELETE', `/v1/tweets/${s(id)}`),
      comments: (id: string, q?: PageQuery) => get<Page<Comment>>(`/v1/tweets/${s(id)}/comments`, q),
      comment: (id: string, text: string) => call<Comment>('POST', `/v1/tweets/${s(id)}/comments`, { text }),
      reactions: (id: string, q?: ReactionQuery) => get<ReactionSummary & Page<Reaction>>(`/v1/tweets/${s(id)}/reactions`, q),
      react: (id: string, kind: ReactionKind) => call<ReactionSummary>('PUT', `/v1/tweets/${s(id)}/reactions/${s(kind)}`),
      unreact: (id: string, kind: ReactionKind) => call<ReactionSummary>('DELETE', `/v1/tweets/${s(id)}/reactions/${s(kind)}`),
    },
    comments: {
      edit: (id: string, text: string) => call<Comment>('PATCH', `/v1/comments/${s(id)}`, { text }),
      delete: (id: string) => call<void>('DELETE', `/v1/comments/${s(id)}`),
    },
    timeline: {
      /** Newest first. What it returns counts as seen: live events will not repeat it. */
      home: async (q: TweetListQuery = {}) => {
        const page = await get<Page<Tweet>>('/v1/timeline/home', q, 'required');
        hooks.homePage(q, page);
        return page;
      },
    },
    notifications: {
      /** Newest first (with `after`: oldest first). What it returns counts as seen. */
      list: async (q: NotificationQuery = {}) => {
        const page = await get<NotificationPage>('/v1/notifications', q, 'required');
        hooks.notificationPage(q, page);
        return page;
      },
      markRead: (upTo: string) => call<MarkReadResult>('POST', '/v1/notifications/read', { upTo }),
    },
    streams: {
      create: (title: string) => call<CreatedStream>('POST', '/v1/streams', { title }),
      get: (id: string) => get<LiveStream>(`/v1/streams/${s(id)}`),
      list: (q: PageQuery & { live?: boolean } = {}) => get<Page<LiveStream>>('/v1/streams', q),
      delete: (id: string) => call<void>('DELETE', `/v1/streams/${s(id)}`),
    },
    ops: {
      health: () => get<{ status: string }>('/healthz', undefined, 'none'),
      ready: () => get<{ status: string; checks: Record<string, string> }>('/readyz', undefined, 'none'),
      jwks: () => get<{ keys: object[] }>('/.well-known/jwks.json', undefined, 'none'),
      openapi: () => get<Record<string, unknown>>('/openapi.json', undefined, 'none'),
    },
  };
}

export type FlockApi = ReturnType<typeof createApi>;

/** Auth routes that do not go through the session's retry (they make or spend tokens). */
export function authCalls(http: HttpClient) {
  return {
    register: (req: RegisterRequest) => http.send<AuthResult>('POST', '/v1/auth/register', req, null),
    login: (req: LoginRequest) => http.send<AuthResult>('POST', '/v1/auth/login', req, null),
    refresh: (refreshToken: string) => http.send<AuthResult>('POST', '/v1/auth/refresh', { refreshToken }, null),
  };
}
