import type { Metrics } from '../metrics.ts';
import { buildOpenApi } from '../http/openapi.ts';
import { route, type Route } from '../http/route.ts';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
  /**
   * false: reported, but the node stays ready without it. Redis is such a dependency: without it
   * a node still serves every durable read and write (live pushes degrade, `sync` recovers them),
   * and failing readiness on every node at once would take the whole fleet out of the balancer.
   */
  critical: boolean;
}

export function opsRoutes(d: { metrics: Metrics; checks: ReadinessCheck[]; routes: () => Route[]; draining: () => boolean }): Route[] {
  let openapi: Record<string, unknown> | null = null;
  return [
    route({
      method: 'GET',
      path: '/healthz',
      tag: 'operations',
      summary: 'The process is up',
      auth: 'none',
      responses: { 200: '{status: "ok"}' },
      handler: async () => ({ status: 200, body: { status: 'ok' } }),
    }),
    route({
      method: 'GET',
      path: '/readyz',
      tag: 'operations',
      summary: 'The database answers (503 otherwise, and while draining); Redis is reported but not required',
      auth: 'none',
      responses: { 200: 'Ready', 503: 'Not ready' },
      handler: async () => {
        const results = await Promise.all(
          d.checks.map(async (c) => {
            try {
              await Promise.race([c.check(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref())]);
              d.metrics.dependencyUp.set({ dependency: c.name }, 1);
              return [c.name, 'ok', c.critical] as const;
            } catch (err) {
              d.metrics.dependencyUp.set({ dependency: c.name }, 0);
              return [c.name, `down: ${(err as Error).message}`, c.critical] as const;
            }
          }),
        );
        const ready = results.every(([, s, critical]) => s === 'ok' || !critical) && !d.draining();
        const checks = Object.fromEntries(results.map(([name, s]) => [name, s]));
        return {
          status: ready ? 200 : 503,
          body: ready
            ? { status: 'ready', checks }
            : {
                status: d.draining() ? 'draining' : 'unavailable',
                checks,
                error: { code: 'FLOCK_ERR_UNAVAILABLE', message: d.draining() ? 'This node is shutting down' : 'A dependency is unavailable' },
              },
        };
      },
    }),
    route({
      method: 'GET',
      path: '/metrics',
      tag: 'operations',
      summary: 'Prometheus metrics',
      auth: 'none',
      responses: { 200: 'Prometheus text format' },
      handler: async () => ({
        status: 200,
        headers: { 'content-type': d.metrics.registry.contentType },
        body: await d.metrics.registry.metrics(),
      }),
    }),
    route({
      method: 'GET',
      path: '/openapi.json',
      tag: 'operations',
      summary: 'This API as OpenAPI 3.1, generated from the request schemas',
      auth: 'none',
      responses: { 200: 'OpenAPI document' },
      handler: async () => ({ status: 200, body: (openapi ??= buildOpenApi(d.routes(), { title: 'Flock gateway', version: '0.1.0' })) }),
    }),
  ];
}
