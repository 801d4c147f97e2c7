import type { z } from 'zod';
import type { HttpRequest, HttpResponse } from './types.ts';

/** Who is calling: a Flock user, from a Flock token or an external issuer's. */
export interface Principal {
  userId: string;
  /** Session (refresh-token family) of a Flock token; null for external tokens. */
  sessionId: string | null;
}

export type AuthMode = 'required' | 'optional' | 'none';

export interface RouteContext<B, Q, P, A extends AuthMode> {
  req: HttpRequest;
  body: B;
  query: Q;
  params: P;
  principal: A extends 'required' ? Principal : Principal | null;
}

export interface RouteDef<B, Q, P, A extends AuthMode> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path pattern with `:name` segments, e.g. `/v1/users/:handle`. */
  path: string;
  summary: string;
  tag: string;
  auth: A;
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  params?: z.ZodType<P>;
  /** Documented responses: status → description. */
  responses: Record<number, string>;
  handler: (ctx: RouteContext<B, Q, P, A>) => Promise<HttpResponse>;
}

/** A route with its types erased, as the router holds it. */
export interface Route {
  method: string;
  path: string;
  summary: string;
  tag: string;
  auth: AuthMode;
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
  responses: Record<number, string>;
  handler: (ctx: RouteContext<unknown, unknown, unknown, AuthMode>) => Promise<HttpResponse>;
}

export function route<B = undefined, Q = Record<string, never>, P = Record<string, never>, A extends AuthMode = AuthMode>(
  def: RouteDef<B, Q, P, A>,
): Route {
  return def as unknown as Route;
}

export const ok = (body: unknown, status = 200): HttpResponse => ({ status, body });
export const noContent = (): HttpResponse => ({ status: 204 });
