import type { Route } from './route.ts';

interface Compiled {
  route: Route;
  re: RegExp;
  names: string[];
}

export type Match =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'not-found' }
  | { kind: 'bad-path' };

/** Maps (method, path) to a route; tells 404 from 405 (with the allowed methods). */
export class Router {
  private readonly compiled: Compiled[];

  constructor(readonly routes: readonly Route[]) {
    // More static segments first, so `/v1/users/me` wins over `/v1/users/:handle` whatever the listing order.
    const statics = (r: Route) => r.path.split('/').filter((s) => s && !s.startsWith(':')).length;
    const ordered = [...routes].sort((a, b) => statics(b) - statics(a));
    this.compiled = ordered.map((route) => {
      const names: string[] = [];
      const pattern = route.path
        .split('/')
        .map((seg) => {
          if (seg.startsWith(':')) {
            names.push(seg.slice(1));
            return '([^/]+)';
          }
          return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        })
        .join('/');
      return { route, re: new RegExp(`^${pattern}/?$`), names };
    });
    const seen = new Set<string>();
    for (const r of routes) {
      // `/a/:id` and `/a/:name` are the same route: the second could never be reached.
      const key = `${r.method} ${r.path.replace(/:\w+/g, ':')}`;
      if (seen.has(key)) throw new Error(`duplicate route ${r.method} ${r.path}`);
      seen.add(key);
    }
  }

  match(method: string, path: string): Match {
    const allow = new Set<string>();
    for (const c of this.compiled) {
      const m = c.re.exec(path);
      if (!m) continue;
      if (c.route.method !== method) {
        allow.add(c.route.method);
        continue;
      }
      const params: Record<string, string> = {};
      try {
        c.names.forEach((n, i) => {
          params[n] = decodeURIComponent(m[i + 1]!);
        });
      } catch {
        return { kind: 'bad-path' };
      }
      return { kind: 'found', route: c.route, params };
    }
    return allow.size > 0 ? { kind: 'method-not-allowed', allow: [...allow] } : { kind: 'not-found' };
  }
}
