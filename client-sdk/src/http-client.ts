import { FlockApiError } from './api-error.ts';
import type { Session } from './session.ts';

export type Fetch = (input: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<{
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}>;

export type Auth = 'required' | 'optional' | 'none';

export interface RequestOptions {
  body?: unknown;
  query?: object;
  /** required: fail without tokens; optional: send them when present; none: never. */
  auth: Auth;
}

/** JSON over fetch, with the Bearer token, and one refresh-and-retry on FLOCK_ERR_TOKEN_EXPIRED. */
export class HttpClient {
  constructor(
    private readonly baseUrl: string,
    private readonly fetchFn: Fetch,
    private readonly session: Session,
  ) {}

  async request<T>(method: string, path: string, opts: RequestOptions): Promise<T> {
    await this.session.ready;
    const url = this.baseUrl + path + queryString(opts.query);
    let token = opts.auth === 'none' ? null : (this.session.current?.accessToken ?? null);
    if (opts.auth === 'required' && token === null) throw new FlockApiError(401, 'FLOCK_ERR_UNAUTHORIZED', 'Log in first');
    try {
      return await this.send<T>(method, url, opts.body, token);
    } catch (err) {
      if (!(err instanceof FlockApiError) || err.code !== 'FLOCK_ERR_TOKEN_EXPIRED' || token === null) throw err;
      token = await this.session.refresh(token);
      return this.send<T>(method, url, opts.body, token);
    }
  }

  /** One request without the session (login, register, refresh). */
  send<T>(method: string, url: string, body: unknown, token: string | null): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return this.fetchFn(url.startsWith('http') ? url : this.baseUrl + url, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).then(async (res) => {
      const text = await res.text();
      let parsed: unknown = undefined;
      if (text) {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
      }
      if (res.status >= 400) {
        const ra = Number(res.headers.get('retry-after'));
        throw FlockApiError.fromBody(res.status, parsed, Number.isFinite(ra) && ra > 0 ? ra : undefined);
      }
      return parsed as T;
    });
  }
}

export function queryString(query: object | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

export const segment = (s: string): string => encodeURIComponent(s);
