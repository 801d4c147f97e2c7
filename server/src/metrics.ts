import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The gateway's Prometheus registry (one per gateway instance, so tests can run several in one process). */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'flock_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly transport = new Gauge({
    name: 'flock_http_transport_info',
    help: 'The HTTP transport in use (1); fallback="true" when uWebSockets.js was wanted but could not load',
    labelNames: ['transport', 'fallback', 'reason'] as const,
    registers: [this.registry],
  });
  readonly dependencyUp = new Gauge({
    name: 'flock_dependency_up',
    help: 'Whether a dependency answered the last readiness check',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });
  readonly rateLimiterErrors = new Counter({
    name: 'flock_rate_limiter_errors_total',
    help: 'Rate-limit checks that failed open because the store was unreachable',
    registers: [this.registry],
  });

  constructor() {
    // Includes nodejs_eventloop_lag_seconds and process CPU/memory.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
  }
}
