import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { redisAdapter, type AdapterFactory } from './realtime/cluster-adapter.ts';
import { LivePush } from './realtime/live-push.ts';
import { SocketServer } from './realtime/socket-server.ts';
import { SyncFeature } from './realtime/sync-feature.ts';
import { MessagingFeature } from './realtime/messaging-feature.ts';
import { MessagingEvents } from './messaging/messaging-events.ts';
import { QueueService } from './messaging/queues.ts';
import { TopicService } from './messaging/topics.ts';
import { messagingRoutes } from './routes/messaging-routes.ts';
import { StreamFeature } from './realtime/stream-feature.ts';
import { liveVideo, type LiveVideo } from './live/live-video.ts';
import { startLiveWebRtc } from './live/live-webrtc.ts';
import { WebRtcFeature } from './realtime/webrtc-feature.ts';
import { CompositeVerifier } from './auth/composite-verifier.ts';
import { SessionCache } from './auth/session-cache.ts';
import { ClusterBus, LocalBus, type InvalidationBus } from './cache/invalidation-bus.ts';
import { ExternalTokens } from './auth/external-tokens.ts';
import { FlockTokens } from './auth/flock-tokens.ts';
import { SigningKeys } from './auth/signing-keys.ts';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { openDatabase } from './db/open-database.ts';
import { CommentService } from './domain/comments.ts';
import type { DomainDeps } from './domain/deps.ts';
import { DomainEvents } from './domain/events.ts';
import { FollowService } from './domain/follows.ts';
import { ReactionService } from './domain/reactions.ts';
import { TweetService } from './domain/tweets.ts';
import { UserService } from './domain/users.ts';
import { createTransport } from './http/create-transport.ts';
import { createDispatcher } from './http/dispatch.ts';
import type { Route } from './http/route.ts';
import { Router } from './http/router.ts';
import { withStaticFiles } from './http/static-files.ts';
import type { Transport } from './http/types.ts';
import { IdGenerator } from './ids.ts';
import { createLogger, type Logger } from './logger.ts';
import { Metrics } from './metrics.ts';
import { MemoryRateLimiter } from './rate-limit/memory-rate-limiter.ts';
import type { RateLimiter } from './rate-limit/rate-limiter.ts';
import { RedisRateLimiter } from './rate-limit/redis-rate-limiter.ts';
import type { Redis } from 'ioredis';
import { openRedis, openRedisClients, type RedisClients } from './redis/open-redis.ts';
import { redisTarget, type RedisTarget } from './redis/redis-target.ts';
import { authRoutes } from './routes/auth-routes.ts';
import { opsRoutes, type ReadinessCheck } from './routes/ops-routes.ts';
import { tweetRoutes } from './routes/tweet-routes.ts';
import { userRoutes } from './routes/user-routes.ts';
import type { BodyCache } from './timeline/body-cache.ts';
import { FanoutWorker } from './timeline/fanout-worker.ts';
import { CachedHomeTimeline, type HomeTimelineReader } from './timeline/home-timeline.ts';
import { MemoryBodyCache } from './timeline/memory-body-cache.ts';
import { MemoryTimelineCache } from './timeline/memory-timeline-cache.ts';
import { RedisBodyCache } from './timeline/redis-body-cache.ts';
import { NearPages } from './timeline/near-pages.ts';
import { RedisTimelineCache, trackTimelinePages, type NearTimelines } from './timeline/redis-timeline-cache.ts';
import { READER_OPTIONS, SUBSCRIBER_OPTIONS } from './timeline/redis-tracking.ts';
import { SqlHomeTimeline } from './timeline/sql-home-timeline.ts';
import type { TimelineCache } from './timeline/timeline-cache.ts';
import { TWEET_KEY_PREFIX, TweetBodies } from './timeline/tweet-bodies.ts';

export interface Gateway {
  readonly config: Config;
  readonly port: number;
  readonly url: string;
  readonly transport: Transport;
  readonly db: Database;
  readonly events: DomainEvents;
  readonly log: Logger;
  readonly sockets: SocketServer;
  /** The home-timeline machinery (docs/timelines.md), for tests and operations. */
  readonly timelines: { cache: TimelineCache; worker: FanoutWorker; sql: HomeTimelineReader; cached: HomeTimelineReader };
  /** Live video: stream records and, in-process, the media service. */
  readonly live: LiveVideo;
  /** Stops accepting, lets in-flight requests finish (up to SHUTDOWN_TIMEOUT_MS), closes everything. */
  stop(): Promise<void>;
}

/**
 * The composition root: the one place that picks implementations (PGlite or
 * PostgreSQL, memory or Redis, uWS or node:http) from the config and wires
 * the services and routes together.
 */
export async function startGateway(config: Config, opts: { log?: Logger } = {}): Promise<Gateway> {
  const log = opts.log ?? createLogger(config.LOG_LEVEL);
  const metrics = new Metrics();
  const db = await openDatabase(config, log);
  const closers: (() => Promise<unknown>)[] = [() => db.close()];
  try {
    const applied = await migrate(db);
    if (applied.length) log.info({ applied }, 'migrations applied');

    const checks: ReadinessCheck[] = [{ name: db.kind, check: () => db.ping(), critical: true }];
    let limiter: RateLimiter;
    let adapter: AdapterFactory | null = null;
    let timelineCache: TimelineCache;
    let bodyCache: BodyCache;
    const timelineOptions = { capacity: config.TIMELINE_CACHE_SIZE, ttlMs: config.TIMELINE_CACHE_TTL_SECONDS * 1000 };
    const bodyOptions = { ttlMs: config.TWEET_CACHE_TTL_SECONDS * 1000, guardMs: 10_000 };
    const redisAt = redisTarget(config);
    let redisClients: RedisClients | null = null;
    let clusterBus: ClusterBus | null = null;
    /**
     * Timeline pages in process (docs/timelines.md "Timeline reads in process"): standalone Redis
     * and Sentinel, with the tweet bodies in process too (pages read without their bodies).
     * Two more connections: the tracked reader and the subscriber Redis reports changes to.
     */
    const localTimelines = (target: RedisTarget): NearTimelines | undefined => {
      if (target.mode === 'cluster' || config.TIMELINE_READ_PATH === 'sql') return undefined;
      if (config.TIMELINE_LOCAL_CACHE_TTL_MS === 0 || config.TIMELINE_LOCAL_CACHE_MAX_USERS === 0) return undefined;
      if (config.TWEET_LOCAL_CACHE_TTL_MS === 0 || config.TWEET_LOCAL_CACHE_MAX_ENTRIES === 0) return undefined;
      const onError = (client: string) => () => metrics.redisErrors.inc({ client });
      const reader = openRedis(target, 'commands', log, onError('timeline-reader'), READER_OPTIONS) as Redis;
      const subscriber = openRedis(target, 'subscribe', log, onError('timeline-invalidations'), SUBSCRIBER_OPTIONS) as Redis;
      const pages = new NearPages({ ttlMs: config.TIMELINE_LOCAL_CACHE_TTL_MS, maxUsers: config.TIMELINE_LOCAL_CACHE_MAX_USERS });
      const tracking = trackTimelinePages({ reader, subscriber, pages, prefix: config.REDIS_KEY_PREFIX, log });
      closers.push(async () => {
        tracking.close();
        await Promise.all([reader, subscriber].map((c) => c.quit().catch(() => c.disconnect())));
      });
      return { reader, pages, onRead: (hit) => metrics.timelineLocalReads.inc({ result: hit ? 'hit' : 'miss' }) };
    };
    if (redisAt) {
      const redis = openRedisClients(redisAt, log, (client) => metrics.redisErrors.inc({ client }));
      redisClients = redis;
      closers.push(() => redis.close());
      adapter = redisAdapter(redis.publish, redis.subscribe, config.REDIS_KEY_PREFIX);
      clusterBus = new ClusterBus(redis.subscribe);
      limiter = new RedisRateLimiter(redis.commands, config.REDIS_KEY_PREFIX, log, () => metrics.rateLimiterErrors.inc());
      checks.push({ name: 'redis', check: async () => void (await redis.commands.ping()), critical: false });
      // The page read prefetches the cached bodies (standalone Redis: one round trip per page).
      const bodyKeyPrefix = RedisBodyCache.keyOf(config.REDIS_KEY_PREFIX, TWEET_KEY_PREFIX);
      timelineCache = new RedisTimelineCache(redis.commands, config.REDIS_KEY_PREFIX, { ...timelineOptions, bodyKeyPrefix }, localTimelines(redisAt));
      bodyCache = new RedisBodyCache(redis.commands, config.REDIS_KEY_PREFIX, bodyOptions);
    } else {
      limiter = new MemoryRateLimiter();
      timelineCache = new MemoryTimelineCache({ ...timelineOptions, maxUsers: config.TIMELINE_MEMORY_MAX_USERS });
      bodyCache = new MemoryBodyCache({ ...bodyOptions, maxEntries: config.TWEET_CACHE_MEMORY_MAX_ENTRIES });
    }
    closers.push(() => limiter.close());

    const nodeId = config.NODE_ID ?? randomInt(0, 1024);
    const ids = new IdGenerator(nodeId);
    const events = new DomainEvents();
    // In-process caches (sessions, author summaries) are invalidated on every node through this bus.
    const bus: InvalidationBus = clusterBus ?? new LocalBus(db.kind === 'pglite');
    const bodies = new TweetBodies({
      db,
      cache: bodyCache,
      log,
      onCacheError: (op) => metrics.timelineCacheErrors.inc({ cache: 'body', op }),
      local: { bus, ttlMs: config.AUTHOR_CACHE_TTL_MS, maxEntries: config.AUTHOR_CACHE_MAX_ENTRIES },
      // Over the shared Redis body cache only: the memory one is in process already.
      ...(redisClients ? { localBodies: { ttlMs: config.TWEET_LOCAL_CACHE_TTL_MS, maxEntries: config.TWEET_LOCAL_CACHE_MAX_ENTRIES } } : {}),
    });
    const sqlHome = new SqlHomeTimeline(db);
    const cachedHome = new CachedHomeTimeline({
      db,
      cache: timelineCache,
      bodies,
      sql: sqlHome,
      log,
      capacity: config.TIMELINE_CACHE_SIZE,
      onRead: (path) => metrics.timelineReads.inc({ path }),
      onCacheError: () => metrics.timelineCacheErrors.inc({ cache: 'timeline', op: 'read' }),
    });
    const home = config.TIMELINE_READ_PATH === 'sql' ? sqlHome : cachedHome;
    const worker = new FanoutWorker({
      db,
      cache: timelineCache,
      log,
      options: {
        batch: config.TIMELINE_FANOUT_BATCH,
        pollMs: config.TIMELINE_FANOUT_POLL_MS,
        capacity: config.TIMELINE_CACHE_SIZE,
        inlineMax: config.TIMELINE_FANOUT_INLINE_MAX,
        enabled: config.TIMELINE_FANOUT_WORKER,
      },
      onJob: (kind, outcome) => metrics.timelineJobs.inc({ kind, outcome }),
    });
    closers.unshift(() => worker.stop());
    const deps: DomainDeps = { config, db, ids, log, events, limiter, home, bodies, fanout: worker };

    const keys = new SigningKeys(db);
    await keys.init();
    const sessions = new SessionCache(db, bus, { ttlMs: config.SESSION_CACHE_TTL_MS, maxEntries: config.SESSION_CACHE_MAX_ENTRIES });
    events.on('user:deleted', ({ userId }) => sessions.usersDeleted([userId]));
    const tokens = new FlockTokens(
      db,
      keys,
      ids,
      { accessSeconds: config.ACCESS_TOKEN_TTL_SECONDS, refreshSeconds: config.REFRESH_TOKEN_TTL_SECONDS },
      sessions,
      config.SESSION_CACHE_MAX_ENTRIES,
    );
    const external =
      config.AUTH_EXTERNAL_JWKS_URL && config.AUTH_EXTERNAL_ISSUER && config.AUTH_EXTERNAL_AUDIENCE
        ? new ExternalTokens({ jwksUrl: config.AUTH_EXTERNAL_JWKS_URL, issuer: config.AUTH_EXTERNAL_ISSUER, audience: config.AUTH_EXTERNAL_AUDIENCE }, db, ids)
        : null;
    const verifier = new CompositeVerifier(tokens, external);

    const users = new UserService(deps);
    const follows = new FollowService(deps);
    const tweets = new TweetService(deps);
    const comments = new CommentService(deps);
    const reactions = new ReactionService(deps);
    const messaging = new MessagingEvents();
    const topics = new TopicService({ config, db, ids, events: messaging });
    const queues = new QueueService({ config, db, ids, events: messaging });
    // Before the database closes (closers run first to last): a sweep under way finishes first.
    closers.unshift(() => topics.stopSweeper());
    topics.startSweeper(config.MESSAGING_SWEEP_MS, log);

    // Live video: stream records, routes, and the media service (in-process by default).
    let gatewayUrl = '';
    let streamFeature: StreamFeature | null = null;
    let webrtcAvailable = () => false;
    const live = liveVideo(deps, metrics, {
      gatewayUrl: () => gatewayUrl,
      webrtc: () => webrtcAvailable(),
      viewers: (id) => streamFeature?.viewers(id) ?? Promise.resolve(0),
      redis: redisClients,
    });
    closers.unshift(() => live.close());

    let draining = false;
    const routes: Route[] = [];
    routes.push(
      ...opsRoutes({ metrics, checks, routes: () => routes, draining: () => draining }),
      ...authRoutes({ ...deps, tokens, keys, users }),
      ...userRoutes({ users, follows, tweets }),
      ...tweetRoutes({ db, tweets, comments, reactions }),
      ...messagingRoutes({ topics, queues }),
      ...live.routes,
    );
    const router = new Router(routes);
    // The labelled child per route and status, looked up once: hashing the labels on every
    // observation was a visible share of a cached timeline page.
    const durationChildren = new Map<string, ReturnType<typeof metrics.httpDuration.labels>>();
    const httpDuration = (method: string, route: string, status: number) => {
      const key = `${method} ${status} ${route}`;
      let child = durationChildren.get(key);
      if (child === undefined) {
        child = metrics.httpDuration.labels({ method, route, status: String(status) });
        durationChildren.set(key, child);
      }
      return child;
    };
    const dispatcher = createDispatcher({
      router,
      log,
      authenticate: (t) => verifier.verify(t),
      observe: (method, route, status, seconds) => httpDuration(method, route, status).observe(seconds),
    });
    const handler = config.SERVE_WEB_APP ? withStaticFiles(config.WEB_APP_DIR, router, dispatcher) : dispatcher;
    if (config.SERVE_WEB_APP && !existsSync(path.join(config.WEB_APP_DIR, 'index.html'))) {
      log.warn({ dir: config.WEB_APP_DIR }, 'the demo web app is not built, so / answers 404: run `npm run build -w client-sdk`');
    }
    const { transport, fallback } = createTransport(config, {
      handler,
      maxBodyBytes: config.MAX_BODY_BYTES,
      trustProxy: config.TRUST_PROXY,
      tls: config.TLS_CERT_FILE && config.TLS_KEY_FILE ? { certFile: config.TLS_CERT_FILE, keyFile: config.TLS_KEY_FILE } : undefined,
      onError: (err) => log.error({ err }, 'transport error'),
    });
    const sockets = new SocketServer({ config, db, log, metrics, verifier, transport, adapter });
    clusterBus?.attach({ emit: (m) => sockets.io.serverSideEmit('flock:invalidate', m), on: (h) => sockets.io.on('flock:invalidate', h) });
    sockets.use(new SyncFeature({ config, db, log, tweets }));
    const messagingFeature = new MessagingFeature({ config, log, io: sockets.io, clustered: adapter !== null, topics, queues, events: messaging });
    sockets.use(messagingFeature);
    closers.unshift(async () => messagingFeature.close());
    const livePush = new LivePush({ config, db, log, metrics, events, sockets });
    streamFeature = new StreamFeature({ config, db, log, metrics, ids, limiter, events, io: sockets.io, livePush });
    sockets.use(streamFeature);
    // WebRTC ingest (docs/media-webrtc.md): without a mediasoup worker, one warning and RTMP only.
    const webrtc = await startLiveWebRtc(config, live, log);
    closers.unshift(() => webrtc.close());
    webrtcAvailable = () => webrtc.unavailableReason === null;
    sockets.use(new WebRtcFeature({ signaling: webrtc, log }));
    worker.start();
    closers.unshift(() => sockets.close());
    metrics.transport.set({ transport: transport.name, fallback: String(fallback !== null), reason: transport.reason }, 1);
    if (fallback) {
      log.warn({ reason: fallback }, 'uWebSockets.js is NOT in use: serving HTTP with the slower node:http fallback transport');
    }
    const port = await transport.listen(config.HOST, config.PORT);
    closers.unshift(async () => transport.close());
    const scheme = config.TLS_CERT_FILE ? 'https' : 'http';
    const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
    gatewayUrl = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const rtmpPort = await live.start();
    log.info({ port, rtmpPort, transport: transport.name, storage: db.kind, redis: redisAt !== null, redisMode: redisAt?.mode, nodeId }, 'flock gateway listening');

    let stopping: Promise<void> | null = null;
    return {
      config,
      port,
      url: gatewayUrl,
      live,
      transport,
      db,
      events,
      log,
      sockets,
      timelines: { cache: timelineCache, worker, sql: sqlHome, cached: cachedHome },
      stop: () =>
        (stopping ??= (async () => {
          draining = true;
          transport.stopAccepting();
          sockets.drain();
          const deadline = Date.now() + config.SHUTDOWN_TIMEOUT_MS;
          while (transport.inFlight() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
          for (const close of closers) await close().catch((err: unknown) => log.warn({ err }, 'error while closing'));
          log.info('flock gateway stopped');
        })()),
    };
  } catch (err) {
    for (const close of closers) await close().catch(() => {});
    throw err;
  }
}
