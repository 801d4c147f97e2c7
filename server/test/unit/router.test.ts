import { describe, expect, it } from 'vitest';
import { noContent, route, type Route } from '../../src/http/route.ts';
import { Router, type Match } from '../../src/http/router.ts';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

function r(method: Method, path: string): Route {
  return route({ method, path, summary: `${method} ${path}`, tag: 'test', auth: 'none', responses: { 204: 'ok' }, handler: async () => noContent() });
}

/** The route found and its params, or the kind of miss. */
function found(m: Match): { route: string; params: Record<string, string> } | Match['kind'] {
  return m.kind === 'found' ? { route: m.route.summary, params: m.params } : m.kind;
}

const router = new Router([
  r('GET', '/healthz'),
  r('POST', '/v1/tweets'),
  r('GET', '/v1/tweets/:id'),
  r('PATCH', '/v1/tweets/:id'),
  r('DELETE', '/v1/tweets/:id'),
  r('PUT', '/v1/tweets/:id/reactions/:kind'),
  r('DELETE', '/v1/tweets/:id/reactions/:kind'),
  r('GET', '/v1/users/me'),
  r('PATCH', '/v1/users/me'),
  r('GET', '/v1/users/:handle'),
  r('GET', '/.well-known/jwks.json'),
]);

describe('Router', () => {
  it('matches static routes', () => {
    expect(found(router.match('GET', '/healthz'))).toEqual({ route: 'GET /healthz', params: {} });
    expect(found(router.match('POST', '/v1/tweets'))).toEqual({ route: 'POST /v1/tweets', params: {} });
  });

  it('matches param routes and returns the params by name', () => {
    expect(found(router.match('GET', '/v1/tweets/123'))).toEqual({ route: 'GET /v1/tweets/:id', params: { id: '123' } });
    expect(found(router.match('PUT', '/v1/tweets/42/reactions/like'))).toEqual({
      route: 'PUT /v1/tweets/:id/reactions/:kind',
      params: { id: '42', kind: 'like' },
    });
  });

  it('matches a static route listed before a param route at the same place (me vs :handle)', () => {
    expect(found(router.match('GET', '/v1/users/me'))).toEqual({ route: 'GET /v1/users/me', params: {} });
    expect(found(router.match('GET', '/v1/users/alice'))).toEqual({ route: 'GET /v1/users/:handle', params: { handle: 'alice' } });
  });

  it('treats regex characters in static segments literally', () => {
    expect(found(router.match('GET', '/.well-known/jwks.json'))).toEqual({ route: 'GET /.well-known/jwks.json', params: {} });
    expect(router.match('GET', '/.well-known/jwksXjson').kind).toBe('not-found');
    expect(router.match('GET', '/x.well-known/jwks.json').kind).toBe('not-found');
  });

  it('answers not-found for unknown paths', () => {
    expect(router.match('GET', '/nope').kind).toBe('not-found');
    expect(router.match('GET', '/v1/tweets/1/2').kind).toBe('not-found');
    expect(router.match('GET', '/v1/tweets/1/reactions').kind).toBe('not-found');
    expect(router.match('GET', '/healthz/extra').kind).toBe('not-found');
    expect(router.match('GET', '').kind).toBe('not-found');
  });

  it('does not match a param segment to nothing', () => {
    expect(router.match('GET', '/v1/tweets//').kind).toBe('not-found');
    expect(router.match('PUT', '/v1/tweets//reactions/like').kind).toBe('not-found');
  });

  it('answers method-not-allowed with every method the path allows', () => {
    const m = router.match('PUT', '/v1/tweets/123');
    expect(m.kind).toBe('method-not-allowed');
    if (m.kind !== 'method-not-allowed') return;
    expect([...m.allow].sort()).toEqual(['DELETE', 'GET', 'PATCH']);
  });

  it('lists the methods of every route matching the path, static and param', () => {
    const m = router.match('DELETE', '/v1/users/me');
    expect(m).toEqual({ kind: 'method-not-allowed', allow: expect.any(Array) });
    if (m.kind !== 'method-not-allowed') return;
    expect([...m.allow].sort()).toEqual(['GET', 'PATCH']);
  });

  it('is case-sensitive about methods (they are upper-case on the wire)', () => {
    expect(router.match('get', '/healthz').kind).toBe('method-not-allowed');
  });

  it('accepts one trailing slash', () => {
    expect(found(router.match('GET', '/healthz/'))).toEqual({ route: 'GET /healthz', params: {} });
    expect(found(router.match('GET', '/v1/tweets/9/'))).toEqual({ route: 'GET /v1/tweets/:id', params: { id: '9' } });
    expect(router.match('GET', '/healthz//').kind).toBe('not-found');
  });

  it('percent-decodes params', () => {
    expect(found(router.match('GET', '/v1/users/caf%C3%A9'))).toEqual({ route: 'GET /v1/users/:handle', params: { handle: 'café' } });
    expect(found(router.match('GET', '/v1/users/a%20b'))).toEqual({ route: 'GET /v1/users/:handle', params: { handle: 'a b' } });
    // An encoded slash stays inside its segment.
    expect(found(router.match('GET', '/v1/users/a%2Fb'))).toEqual({ route: 'GET /v1/users/:handle', params: { handle: 'a/b' } });
  });

  it.each(['/v1/users/%', '/v1/users/%zz', '/v1/users/%E0%A4%A', '/v1/users/%C3'])('answers bad-path for malformed encoding %s', (path) => {
    expect(router.match('GET', path)).toEqual({ kind: 'bad-path' });
  });

  it('throws on a duplicate route definition', () => {
    expect(() => new Router([r('GET', '/a/:id'), r('POST', '/a/:id'), r('GET', '/a/:id')])).toThrow(/duplicate route GET \/a\/:id/);
  });

  it('allows the same path with different methods', () => {
    expect(() => new Router([r('GET', '/a'), r('POST', '/a'), r('DELETE', '/a')])).not.toThrow();
  });
});

describe('Router specificity', () => {
  const r = (method: string, path: string): Route => ({ method, path, summary: '', tag: 't', auth: 'none', responses: {}, handler: async () => ({ status: 200 }) });

  it('prefers a static segment over a parameter whatever the listing order', () => {
    const router = new Router([r('GET', '/v1/users/:handle'), r('GET', '/v1/users/me')]);
    const m = router.match('GET', '/v1/users/me');
    expect(m.kind === 'found' && m.route.path).toBe('/v1/users/me');
  });

  it('treats routes differing only in parameter names as duplicates', () => {
    expect(() => new Router([r('GET', '/a/:id'), r('GET', '/a/:name')])).toThrow(/duplicate route GET \/a\/:name/);
  });
});
