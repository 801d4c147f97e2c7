import { loadConfig } from '../../src/config.ts';
import { startGateway, type Gateway } from '../../src/gateway.ts';
import { createTestDatabase } from './services.ts';

export type Storage = 'pglite' | 'postgres';
export type TransportName = 'uws' | 'node';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface Api {
  (method: string, path: string, opts?: { body?: unknown; token?: string; headers?: Record<string, string>; raw?: string | Buffer }): Promise<ApiResponse>;
}

export interface TestGateway {
  gw: Gateway;
  url: string;
  api: Api;
  /** Waits until the followers' fan-out of every write so far is applied (it runs after the response). */
  fanout(): Promise<void>;
  /** Registers a user with a unique handle (prefix + counter). */
  register(prefix?: string, extra?: Record<string, unknown>): Promise<TestUser>;
  close(): Promise<void>;
}

export interface TestUser {
  id: string;
  handle: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

export function makeApi(baseUrl: string): Api {
  return async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    let body: string | Buffer | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const res = await fetch(baseUrl + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as any, text };
  };
}

let counter = 0;

/**
 * Starts a real gateway on port 0 with the given storage and transport.
 * PGlite runs in memory; PostgreSQL gets a fresh database that is dropped at close.
 */
export async function startTestGateway(
  storage: Storage,
  transport: TransportName,
  env: Record<string, string | number> = {},
): Promise<TestGateway> {
  const db = storage === 'postgres' ? await createTestDatabase() : null;
  const config = loadConfig({
    PORT: 0,
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.FLOCK_TEST_LOG_LEVEL ?? 'silent',
    DATA_DIR: 'memory://',
    HTTP_TRANSPORT: transport,
    PASSWORD_SCRYPT_COST: 1024,
    // Never the fixed 1935: test gateways run side by side.
    RTMP_PORT: 0,
    ...(db ? { DATABASE_URL: db.url } : {}),
    ...env,
  });
  const gw = await startGateway(config);
  const api = makeApi(gw.url);
  const run = `${process.pid.toString(36)}${(counter++).toString(36)}`;
  let n = 0;
  return {
    gw,
    url: gw.url,
    api,
    fanout: () => gw.timelines.worker.settle(),
    async register(prefix = 'u', extra = {}) {
      const handle = `${prefix.slice(0, 4)}${run}_${n++}`;
      if (handle.length > 15) throw new Error(`test handle too long: ${handle}`);
      const email = `${handle}@example.test`;
      const password = 'correct horse battery';
      const r = await api('POST', '/v1/auth/register', { body: { handle, email, password, ...extra } });
      if (r.status !== 201) throw new Error(`register failed: ${r.status} ${r.text}`);
      return { id: r.body.user.id, handle, email, password, accessToken: r.body.accessToken, refreshToken: r.body.refreshToken };
    },
    async close() {
      await gw.stop();
      await db?.drop();
    },
  };
}
