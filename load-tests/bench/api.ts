import type { Tweet } from '@flock/client/protocol';

/**
 * The few calls of the Flock HTTP API (DESIGN §3) that benchmarks need to set
 * up data. Every call checks the status it expects and fails with the
 * server's error body otherwise, so a broken seed never turns into a
 * benchmark of error responses.
 */

export interface Session {
  userId: string;
  handle: string;
  accessToken: string;
}

export class ApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${method} ${path} → ${status}: ${body.slice(0, 300)}`);
    this.name = 'ApiError';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

export class FlockApi {
  constructor(readonly baseUrl: string) {}

  async request(method: string, path: string, opts: { token?: string; body?: unknown; expect: number }): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (res.status !== opts.expect) throw new ApiError(method, path, res.status, text);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  }

  async register(handle: string, password: string): Promise<Session> {
    const body = await this.request('POST', '/v1/auth/register', {
      body: { handle, email: `${handle.toLowerCase()}@bench.flock.test`, password, name: `Bench ${handle}` },
      expect: 201,
    });
    if (!isObject(body) || typeof body.accessToken !== 'string' || !isObject(body.user) || typeof body.user.id !== 'string') {
      throw new Error(`register ${handle}: unexpected response ${JSON.stringify(body).slice(0, 300)}`);
    }
    return { userId: body.user.id, handle, accessToken: body.accessToken };
  }

  async follow(session: Session, handle: string): Promise<void> {
    await this.request('PUT', `/v1/users/${encodeURIComponent(handle)}/follow`, { token: session.accessToken, expect: 200 });
  }

  async postTweet(session: Session, text: string): Promise<Tweet> {
    const body = await this.request('POST', '/v1/tweets', { token: session.accessToken, body: { text }, expect: 201 });
    if (!isObject(body) || typeof body.id !== 'string') throw new Error(`post tweet: unexpected response ${JSON.stringify(body).slice(0, 300)}`);
    return body as unknown as Tweet;
  }

  async homeTimeline(session: Session, limit: number): Promise<Tweet[]> {
    const body = await this.request('GET', `/v1/timeline/home?limit=${limit}`, { token: session.accessToken, expect: 200 });
    if (!isObject(body) || !Array.isArray(body.items)) throw new Error(`home timeline: unexpected response ${JSON.stringify(body).slice(0, 300)}`);
    return body.items as Tweet[];
  }

  /** The `flock_http_transport_info` series of /metrics: which transport really serves (uws or node). */
  async transportInUse(): Promise<string | null> {
    const res = await fetch(`${this.baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    return /^flock_http_transport_info\{[^}]*transport="([^"]+)"[^}]*\} 1$/m.exec(text)?.[1] ?? null;
  }
}
