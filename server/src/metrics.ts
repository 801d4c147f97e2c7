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

  readonly socketsConnected = new Gauge({
    name: 'flock_sockets_connected',
    help: 'Sockets connected to this node',
    registers: [this.registry],
  });
  readonly socketDisconnects = new Counter({
    name: 'flock_socket_disconnects_total',
    help: 'Socket disconnections by Socket.IO reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly broadcasts = new Counter({
    name: 'flock_socket_broadcasts_total',
    help: 'Events broadcast to sockets (one per event, whatever the number of recipients), by event',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  readonly deliveryLatency = new Histogram({
    name: 'flock_delivery_latency_seconds',
    help: 'Time from a tweet being created to its broadcast to sockets',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly pushBatchSize = new Histogram({
    name: 'flock_live_push_batch_size',
    help: 'Live pushes emitted together after LIVE_PUSH_COALESCE_MS (uWS writes them to a socket with one syscall)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [this.registry],
  });

  readonly pushWindow = new Histogram({
    name: 'flock_live_push_window_seconds',
    help: 'Length of each live-push coalescing window that closed with pushes waiting: LIVE_PUSH_COALESCE_MS, stretched up to LIVE_PUSH_COALESCE_MAX_MS while the event loop is busy',
    buckets: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1],
    registers: [this.registry],
  });
  readonly slowConsumers = new Counter({
    name: 'flock_slow_consumer_disconnects_total',
    help: 'Sockets disconnected because their send buffer passed SOCKET_MAX_BUFFERED_BYTES',
    registers: [this.registry],
  });
  readonly redisErrors = new Counter({
    name: 'flock_redis_errors_total',
    help: 'Errors of Redis clients and of the socket adapter',
    labelNames: ['client'] as const,
    registers: [this.registry],
  });

  readonly timelineReads = new Counter({
    name: 'flock_timeline_reads_total',
    help: 'Home-timeline pages by where they came from: cache, rebuild (cold cache rebuilt from SQL) or sql',
    labelNames: ['path'] as const,
    registers: [this.registry],
  });
  readonly timelineLocalReads = new Counter({
    name: 'flock_timeline_local_reads_total',
    help: 'Home-timeline cache reads of a node that keeps them in process: hit (no Redis round trip) or miss',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly timelineJobs = new Counter({
    name: 'flock_timeline_jobs_total',
    help: 'Fan-out jobs applied (done) or failed (retried later), by kind',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly timelineCacheErrors = new Counter({
    name: 'flock_timeline_cache_errors_total',
    help: 'Timeline or body cache operations that failed (reads fell back to PostgreSQL)',
    labelNames: ['cache', 'op'] as const,
    registers: [this.registry],
  });
  readonly ffmpegRestarts = new Counter({
    name: 'flock_ffmpeg_restarts_total',
    help: 'ffmpeg processes restarted after they exited on their own during a live stream',
    registers: [this.registry],
  });

  constructor() {
    // Includes nodejs_eventloop_lag_seconds and process CPU/memory.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
  }
}
