import type { z } from 'zod';
import { FlockError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Principal, Route } from './route.ts';
import type { Router } from './router.ts';
import type { HttpHandler, HttpRequest, HttpResponse } from './types.ts';

export interface DispatchDeps {
  router: Router;
  log: Logger;
  /** Resolves the Bearer token to a principal, or throws FlockError 401. */
  authenticate: (token: string) => Promise<Principal>;
  observe: (method: string, route: string, status: number, seconds: number) => void;
}

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type',
  'access-control-expose-headers': 'retry-after',
  'access-control-max-age': '600',
};

function zodDetails(err: z.ZodError): { path: string; message: string }[] {
  return err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return value as T;
  const r = schema.safeParse(value);
  if (!r.success) throw new FlockError('FLOCK_ERR_VALIDATION', `Invalid ${where}`, zodDetails(r.error));
  return r.data;
}

function hasNul(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('\0');
  if (Array.isArray(v)) return v.some(hasNul);
  if (v && typeof v === 'object') return Object.entries(v).some(([k, x]) => k.includes('\0') || hasNul(x));
  return false;
}

function parseBody(route: Route, req: HttpRequest): unknown {
  if (!route.body) {
    return undefined; // bodies on routes without one are ignored, like most HTTP APIs
  }
  if (!req.body || req.body.length === 0) {
    if (route.body.safeParse(undefined).success) return undefined;
    throw new FlockError('FLOCK_ERR_VALIDATION', 'A JSON body is required');
  }
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) throw new FlockError('FLOCK_ERR_UNSUPPORTED_MEDIA_TYPE');
  const text = req.body.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FlockError('FLOCK_ERR_BAD_JSON');
  }
  // PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database.
  if (text.includes('\\u0000') && hasNul(value)) {
    throw new FlockError('FLOCK_ERR_VALIDATION', 'Text must not contain NUL (U+0000) characters');
  }
  return value;
}

export function errorResponse(err: unknown, log: Logger): HttpResponse {
  if (err instanceof FlockError) {
    return { status: err.status, headers: err.headers, body: err.toBody() };
  }
  const sqlstate = (err as { code?: unknown } | null)?.code;
  if (sqlstate === '22021' || sqlstate === '22P05' || sqlstate === '54000') {
    // Bytes or sizes the database refuses (invalid encoding, NUL, too long): the client's input, not our fault.
    return { status: 400, body: new FlockError('FLOCK_ERR_VALIDATION', 'The database cannot store this value').toBody() };
  }
  log.error({ err }, 'unhandled error');
  return { status: 500, body: new FlockError('FLOCK_ERR_INTERNAL').toBody() };
}

/** The whole HTTP pipeline: route, validate, authenticate, handle, map errors, measure. */
export function createDispatcher(deps: DispatchDeps): HttpHandler {
  const { router, log } = deps;
  return async (req) => {
    const started = performance.now();
    let label = 'unmatched';
    let res: HttpResponse;
    try {
      if (req.method === 'OPTIONS') {
        res = { status: 204, headers: {} };
      } else {
        const m = router.match(req.method, req.path);
        if (m.kind === 'not-found') throw new FlockError('FLOCK_ERR_ROUTE_NOT_FOUND', `No route for ${req.method} ${req.path}`);
        if (m.kind === 'bad-path') throw new FlockError('FLOCK_ERR_VALIDATION', 'The path is not valid');
        if (m.kind === 'method-not-allowed') {
          throw new FlockError('FLOCK_ERR_METHOD_NOT_ALLOWED', `Use ${m.allow.join(', ')}`, undefined, { allow: m.allow.join(', ') });
        }
        const route = m.route;
        label = route.path;
        const params = parse(route.params, m.params, 'path parameter');
        const query = parse(route.query, Object.fromEntries(req.query), 'query');
        let principal: Principal | null = null;
        const authz = req.headers.authorization;
        if (route.auth !== 'none' && authz !== undefined) {
          const token = /^Bearer\s+(\S+)$/i.exec(authz)?.[1];
          if (!token) throw new FlockError('FLOCK_ERR_UNAUTHORIZED', 'Use an Authorization: Bearer <token> header');
          principal = await deps.authenticate(token);
        } else if (route.auth === 'required') {
          throw new FlockError('FLOCK_ERR_UNAUTHORIZED');
        }
        const body = parse(route.body, parseBody(route, req), 'body');
        res = await route.handler({ req, body, query, params, principal });
      }
    } catch (err) {
      res = errorResponse(err, log);
    }
    res.headers = { ...CORS_HEADERS, ...res.headers };
    const seconds = (performance.now() - started) / 1000;
    deps.observe(req.method, label, res.status, seconds);
    if (log.isLevelEnabled('debug')) log.debug({ method: req.method, route: label, status: res.status, ms: seconds * 1000 }, 'http');
    return res;
  };
}
