import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * Every setting of the gateway, parsed once at start from the environment.
 * A bad setting stops the start with every problem listed (ConfigError).
 * Nothing else in the server reads process.env.
 */

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'TRUE', 'FALSE', 'True', 'False'])
  .transform((v) => ['true', '1', 'yes'].includes(v.toLowerCase()));

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export interface HostPort {
  host: string;
  port: number;
}

/** "host:port" or "[ipv6]:port" → { host, port }; null when malformed. */
function parseHostPort(entry: string): HostPort | null {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]+)):(\d{1,5})$/.exec(entry.trim());
  if (!m) return null;
  const port = Number(m[3]);
  return port >= 1 && port <= 65535 ? { host: (m[1] ?? m[2])!, port } : null;
}

/** "host:port,host:port" → [{ host, port }, …]: at least one entry, no empty ones. */
const hostPorts = z
  .string()
  .refine((v) => v.split(',').every((e) => parseHostPort(e) !== null), 'expected host:port[,host:port…] such as 10.0.0.1:6379,10.0.0.2:6379')
  .transform((v) => v.split(',').map((e) => parseHostPort(e)!));

export interface RateRule {
  limit: number;
  windowMs: number;
}

/** "10/15m" → 10 per 15 minutes. Units: s, m, h. */
const rate = z
  .string()
  .regex(/^\d+\/\d+[smh]$/, 'expected N/<window> such as 10/15m, 300/3h or 5/1s')
  .transform((v): RateRule => {
    const [n, w] = v.split('/') as [string, string];
    const unit = { s: 1000, m: 60_000, h: 3_600_000 }[w.slice(-1) as 's' | 'm' | 'h'];
    return { limit: Number(n), windowMs: Number(w.slice(0, -1)) * unit };
  })
  .refine((r) => r.limit > 0 && r.windowMs > 0, 'limit and window must be positive');

const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `expected a URL with scheme ${protocols.join(' or ')}`);

export const configSchema = z
  .object({
    /** TCP port of HTTP and WebSocket. */
    PORT: int(0, 65535).default(8080),
    HOST: z.string().min(1).default('0.0.0.0'),
    /** Embedded storage (PGlite) lives here when DATABASE_URL is unset. */
    DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
    /**
     * Shared state (rate limits, the socket bus) lives in Redis when one of these three is set:
     * REDIS_URL (standalone), REDIS_CLUSTER_NODES (Redis Cluster) or REDIS_SENTINELS (Sentinel).
     * Credentials and TLS of a standalone Redis are part of its URL.
     */
    REDIS_URL: url(['redis:', 'rediss:']).optional(),
    /** Seed nodes of a Redis Cluster (the client discovers the others). */
    REDIS_CLUSTER_NODES: hostPorts.optional(),
    /** Sentinels that watch the master named REDIS_SENTINEL_NAME. */
    REDIS_SENTINELS: hostPorts.optional(),
    /** Master group name of the sentinels (`sentinel monitor <name> …`); required with REDIS_SENTINELS. */
    REDIS_SENTINEL_NAME: z.string().min(1).optional(),
    /** AUTH password of the sentinels themselves (not of the data nodes). */
    REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
    /** ACL user of the data nodes, Cluster and Sentinel modes. */
    REDIS_USERNAME: z.string().min(1).optional(),
    /** AUTH password of the data nodes, Cluster and Sentinel modes. */
    REDIS_PASSWORD: z.string().min(1).optional(),
    /** TLS to the data nodes (and to the sentinels), Cluster and Sentinel modes. */
    REDIS_TLS: bool.default(false),
    /** Prefix of every Redis key, so several deployments or test runs share one Redis. */
    REDIS_KEY_PREFIX: z.string().default('flock:'),
    FANOUT_THRESHOLD: int(1, 1_000_000_000).default(10_000),
    RTMP_PORT: int(0, 65535).default(1935),
    FFMPEG_PATH: z.string().min(1).optional(),
    /**
     * The mediasoup worker binary for WebRTC ingest. Default: the one
     * media/scripts/build-mediasoup-worker.sh cached for the installed mediasoup version, under
     * XDG_CACHE_HOME (else ~/.cache); without either, the gateway offers RTMP ingest only.
     */
    MEDIASOUP_WORKER_BIN: z.string().min(1).optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    TLS_CERT_FILE: z.string().min(1).optional(),
    TLS_KEY_FILE: z.string().min(1).optional(),
    /** 0–1023, part of every generated id: give each node of a cluster its own. Random when unset. */
    NODE_ID: int(0, 1023).optional(),
    /** auto: uWebSockets.js when its native binary loads, node:http otherwise. */
    HTTP_TRANSPORT: z.enum(['auto', 'uws', 'node']).default('auto'),
    /** The uWS package's own switch; honoured by forcing the node:http transport. */
    UWS_USE_FALLBACK: bool.default(false),
    /** Largest accepted request body, in bytes (larger → 413). */
    MAX_BODY_BYTES: int(1024, 64 * 1024 * 1024).default(64 * 1024),
    /** Behind one trusted proxy: the client IP is the last X-Forwarded-For entry (the one the proxy appended). */
    TRUST_PROXY: bool.default(false),
    ACCESS_TOKEN_TTL_SECONDS: int(30, 24 * 3600).default(900),
    REFRESH_TOKEN_TTL_SECONDS: int(300, 365 * 24 * 3600).default(30 * 24 * 3600),
    /** scrypt cost parameter N (a power of two). */
    PASSWORD_SCRYPT_COST: int(1024, 1 << 20)
      .refine((n) => (n & (n - 1)) === 0, 'must be a power of two')
      .default(16384),
    AUTH_EXTERNAL_JWKS_URL: url(['http:', 'https:']).optional(),
    AUTH_EXTERNAL_ISSUER: z.string().min(1).optional(),
    AUTH_EXTERNAL_AUDIENCE: z.string().min(1).optional(),
    RATE_LOGIN_PER_ACCOUNT: rate.default({ limit: 10, windowMs: 15 * 60_000 }),
    RATE_LOGIN_PER_IP: rate.default({ limit: 100, windowMs: 15 * 60_000 }),
    RATE_TWEETS_PER_USER: rate.default({ limit: 300, windowMs: 3 * 3_600_000 }),
    RATE_REGISTER_PER_IP: rate.default({ limit: 50, windowMs: 3_600_000 }),
    DB_POOL_SIZE: int(1, 1000).default(10),
    /** How long start-up waits for the database before giving up. */
    DB_CONNECT_TIMEOUT_MS: int(0, 600_000).default(30_000),
    /**
     * Authors with at least this many followers get an `author:<id>` room that their followers'
     * sockets join (one broadcast per tweet); smaller authors' tweets are pushed into their
     * followers' `user:<id>` rooms instead, so a socket does not pay room memory per small account.
     */
    LIVE_ROOM_THRESHOLD: int(1, 1_000_000_000).default(1000),
    /** Largest socket message a client may send, in bytes (larger closes the socket). */
    SOCKET_MAX_PAYLOAD_BYTES: int(256, 16 * 1024 * 1024).default(16 * 1024),
    /** A socket whose unsent data passes this many bytes is disconnected with SLOW_CONSUMER (reconnect and sync). */
    SOCKET_MAX_BUFFERED_BYTES: int(4096, 1024 * 1024 * 1024).default(1024 * 1024),
    /** Events a socket may send per second (bursts up to twice that); beyond, calls fail with FLOCK_ERR_RATE_LIMITED. */
    SOCKET_EVENTS_PER_SECOND: int(1, 100_000).default(20),
    /** Most items one `sync` answers per list (the rest is paged with HTTP or another sync). */
    SYNC_MAX_ITEMS: int(1, 1000).default(200),
    /**
     * `sync` answers from this far before the ids the client sends: live pushes can arrive out of
     * order (nodes and pushes race), so "newer than the last id seen" alone could skip an event still
     * in flight when the connection dropped. Clients drop the repeats by id.
     */
    SYNC_OVERLAP_MS: int(0, 3_600_000).default(30_000),
    /** Messaging: largest message payload in bytes (JSON text of `data`, or decoded `bytes`); larger → 413. */
    MESSAGE_MAX_BYTES: int(1, 16 * 1024 * 1024).default(64 * 1024),
    /** Messaging: messages a topic keeps when its owner sets no count retention (oldest go first). */
    TOPIC_RETENTION_COUNT: int(1, 1_000_000_000).default(100_000),
    /** Messaging: seconds a topic keeps a message when its owner sets no age retention. */
    TOPIC_RETENTION_SECONDS: int(1, 10 * 365 * 24 * 3600).default(7 * 24 * 3600),
    /** Messaging: how often expired topic messages are deleted and socket queue consumers look for redeliveries. */
    MESSAGING_SWEEP_MS: int(50, 3_600_000).default(1000),
    /** SIGTERM drain deadline. */
    SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000),
    // Home timelines (docs/timelines.md).
    /**
     * cache: the hybrid path (fanned-out timeline cache + large authors merged at read time + cached
     * bodies). sql: every read is the plain SQL query (for comparison; fan-out still runs).
     */
    TIMELINE_READ_PATH: z.enum(['cache', 'sql']).default('cache'),
    /** Tweet ids kept per home timeline; older pages are answered from SQL. */
    TIMELINE_CACHE_SIZE: int(20, 100_000).default(800),
    /** A timeline nobody reads or writes for this long is dropped (rebuilt from SQL on the next read). */
    TIMELINE_CACHE_TTL_SECONDS: int(1, 365 * 24 * 3600).default(7 * 24 * 3600),
    /** Embedded default only (memory cache): timelines kept in this process; the least recently used go first. */
    TIMELINE_MEMORY_MAX_USERS: int(1, 100_000_000).default(100_000),
    /** How long a cached tweet body or author summary lives (bounds staleness after a failed invalidation). */
    TWEET_CACHE_TTL_SECONDS: int(1, 30 * 24 * 3600).default(3600),
    /** Embedded default only (memory cache): bodies kept in this process. */
    TWEET_CACHE_MEMORY_MAX_ENTRIES: int(1, 100_000_000).default(200_000),
    /**
     * Whether this node applies fan-out jobs from the outbox. false: it still enqueues them (in the
     * tweet's transaction) and other nodes apply them; also how tests hold the fan-out back.
     */
    TIMELINE_FANOUT_WORKER: bool.default(true),
    /** How often the worker looks for jobs it was not woken for (other nodes', retries). */
    TIMELINE_FANOUT_POLL_MS: int(10, 600_000).default(1000),
    /**
     * Fan-out jobs that write at most this many timelines run in the request, right after the
     * commit and after the live push is sent; bigger ones run in the background worker, woken at
     * once (the POST does not wait for them, and the author's own timeline is still written in the
     * request). The default 1 keeps one-timeline jobs (follow, unfollow, a large author's post) in
     * the request and sends every follower fan-out to the worker (docs/timelines.md "Fan-out").
     */
    TIMELINE_FANOUT_INLINE_MAX: int(0, 1_000_000_000).default(1),
    /** Fan-out jobs claimed per transaction. */
    TIMELINE_FANOUT_BATCH: int(1, 10_000).default(100),
    /**
     * How long a node trusts a session it found live (the per-request logout check) without asking
     * PostgreSQL again. Logouts reach every node over the cluster bus at once; this bounds a missed
     * message (docs/timelines.md "Session cache"). 0: ask PostgreSQL on every request.
     */
    SESSION_CACHE_TTL_MS: int(0, 600_000).default(30_000),
    /** Sessions (and verified access tokens) a node remembers; the least recently used go first. */
    SESSION_CACHE_MAX_ENTRIES: int(0, 10_000_000).default(50_000),
    /** How long a node keeps an author summary (handle, name, avatar) in process; profile changes reach every node over the cluster bus. 0: off. */
    AUTHOR_CACHE_TTL_MS: int(0, 3_600_000).default(60_000),
    /** Author summaries a node keeps in process. */
    AUTHOR_CACHE_MAX_ENTRIES: int(0, 10_000_000).default(100_000),
    /**
     * How long a node keeps a tweet body (the JSON the home timeline splices) in process; edits,
     * deletions and count changes reach every node over the cluster bus. 0: off (bodies come
     * from the shared body cache on every read).
     */
    TWEET_LOCAL_CACHE_TTL_MS: int(0, 3_600_000).default(30_000),
    /** Tweet bodies a node keeps in process. */
    TWEET_LOCAL_CACHE_MAX_ENTRIES: int(0, 10_000_000).default(100_000),
    /**
     * Standalone Redis and Sentinel: how long a node keeps a home-timeline page read in process
     * (docs/timelines.md "Timeline reads in process"). Redis reports every change of the timeline's
     * keys to the node at once (CLIENT TRACKING); this bounds a report lost to a silent network cut,
     * and an active reader's timeline has its Redis TTL renewed this often. 0: off.
     */
    TIMELINE_LOCAL_CACHE_TTL_MS: int(0, 3_600_000).default(5_000),
    /** Readers whose timeline pages a node keeps in process; the one stored longest ago goes first. */
    TIMELINE_LOCAL_CACHE_MAX_USERS: int(0, 10_000_000).default(20_000),
    // ---- Demo web app (client SDK issue) ----
    /** Serve the demo web app at `/` (GET requests no API route answers). */
    SERVE_WEB_APP: bool.default(true),
    /** Directory of the built demo web app (`npm run build -w client-sdk`). */
    WEB_APP_DIR: z.string().min(1).default(fileURLToPath(new URL('../../client-sdk/demo/dist', import.meta.url))),
    /**
     * Under load, live pushes leave in batches at most this many ms apart (a lone push leaves at
     * once): uWS then writes all of a socket's new events with one syscall, far less CPU per
     * delivery. 0 = every push at once.
     */
    LIVE_PUSH_COALESCE_MS: int(0, 1000).default(10),
    /**
     * The window stretches up to this while the gateway's event loop is busy (docs/realtime.md
     * "Push coalescing"): fewer, larger writes when it cannot keep up. Equal to LIVE_PUSH_COALESCE_MS
     * (or below it, when only that one is set) keeps the window fixed.
     */
    LIVE_PUSH_COALESCE_MAX_MS: int(0, 1000).default(200),
    // --- WebRTC ingest (docs/media-webrtc.md) ---
    /** Base directory of the worker cache that MEDIASOUP_WORKER_BIN defaults into (the build script's own default: ~/.cache). */
    XDG_CACHE_HOME: z.string().min(1).optional(),
    /** Address mediasoup's WebRTC transports bind (UDP, and TCP as a fallback for browsers). */
    WEBRTC_LISTEN_IP: z.union([z.ipv4(), z.ipv6()], 'expected an IP address').default('0.0.0.0'),
    /**
     * Address (IP or DNS name) browsers are told to send media to. Default: WEBRTC_LISTEN_IP
     * when it is a specific address, else this host's first non-internal IPv4 address. Set it
     * behind NAT or a load balancer (the public address of this node).
     */
    WEBRTC_ANNOUNCED_ADDRESS: z.string().min(1).optional(),
    /** Port range of the WebRTC transports (each publisher uses one port; open it in the firewall, UDP and TCP). */
    WEBRTC_MIN_PORT: int(1024, 65535).default(40000),
    WEBRTC_MAX_PORT: int(1024, 65535).default(49999),
    // --- Live video (DESIGN §7, docs/media.md) ---
    /**
     * inprocess: the gateway runs RTMP ingest, ffmpeg and the HLS origin itself; remote: media
     * workers (media/src/main.ts) do, and talk to the gateways over Redis; off: stream records only.
     */
    MEDIA_SERVICE: z.enum(['inprocess', 'remote', 'off']).default('inprocess'),
    /** Where HLS files are written; default DATA_DIR/hls (in memory when DATA_DIR is memory://). */
    HLS_DIR: z.string().min(1).optional(),
    /** LL-HLS part target in milliseconds (EXT-X-PART-INF PART-TARGET). */
    HLS_PART_MS: int(100, 2000).default(333),
    /** Segment target in milliseconds: a segment closes at the first keyframe past it. */
    HLS_SEGMENT_MS: int(500, 10_000).default(1000),
    /** Segments kept in a media playlist; 0 keeps them all, so the ended stream plays whole as VOD. */
    HLS_WINDOW_SEGMENTS: int(0, 100_000).default(0),
    /** Transcoded renditions besides the source, e.g. 720p:2500k,480p:1200k; empty passes the source through only. */
    HLS_LADDER: z
      .string()
      .regex(/^\s*(\d{2,4}p:\d+[kmKM]?\s*(,\s*\d{2,4}p:\d+[kmKM]?\s*)*)?$/, 'expected <height>p:<bitrate>[k|m],… such as 720p:2500k,480p:1200k')
      .default(''),
    /** Longest a blocking playlist reload (_HLS_msn/_HLS_part) or a preload-hinted part is held before 503/404. */
    HLS_BLOCK_TIMEOUT_MS: int(100, 60_000).default(6000),
    /** Public base of playback URLs (a CloudFront distribution), e.g. https://d111.cloudfront.net/hls; default this gateway's /hls. */
    HLS_PUBLIC_URL: url(['http:', 'https:']).optional(),
    /** Public RTMP ingest URL shown to broadcasters, e.g. rtmp://live.example.com/live; default rtmp://<HOST>:<RTMP_PORT>/live. */
    RTMP_PUBLIC_URL: url(['rtmp:', 'rtmps:']).optional(),
    /** First pause before restarting a crashed ffmpeg; doubles per crash up to FFMPEG_RESTART_MAX_MS. */
    FFMPEG_RESTART_MS: int(0, 60_000).default(500),
    FFMPEG_RESTART_MAX_MS: int(0, 600_000).default(10_000),
    /** When set, every HLS file is also uploaded to this S3 bucket (for a CloudFront S3 origin), with the origin's headers. */
    S3_BUCKET: z.string().min(3).max(63).optional(),
    /** Key prefix in the bucket: keys are <S3_PREFIX><streamId>/…. */
    S3_PREFIX: z.string().default('hls/'),
    S3_REGION: z.string().min(1).default('us-east-1'),
    /** An S3-compatible endpoint instead of AWS (MinIO, s3rver); credentials come from the AWS SDK's usual chain. */
    S3_ENDPOINT: url(['http:', 'https:']).optional(),
    /** Path-style URLs (bucket in the path), as most S3-compatible servers need. */
    S3_FORCE_PATH_STYLE: bool.default(false),
    /** Chat messages one user may send per window, across streams. */
    RATE_CHAT_PER_USER: rate.default({ limit: 10, windowMs: 10_000 }),
  });

/** Rules across settings; checked on the raw input so they are reported even when a field is also invalid. */
function crossFieldProblems(input: Record<string, string>): string[] {
  const problems: string[] = [];
  if (Boolean(input.TLS_CERT_FILE) !== Boolean(input.TLS_KEY_FILE)) {
    problems.push('TLS_CERT_FILE: set both TLS_CERT_FILE and TLS_KEY_FILE, or neither');
  }
  const ext = [input.AUTH_EXTERNAL_JWKS_URL, input.AUTH_EXTERNAL_ISSUER, input.AUTH_EXTERNAL_AUDIENCE];
  if (ext.some(Boolean) && !ext.every(Boolean)) {
    problems.push('AUTH_EXTERNAL_JWKS_URL: set all of AUTH_EXTERNAL_JWKS_URL, AUTH_EXTERNAL_ISSUER and AUTH_EXTERNAL_AUDIENCE, or none');
  }
  problems.push(...redisProblems(input));
  // Only when both are set: a longer LIVE_PUSH_COALESCE_MS alone just means no stretching.
  if (input.LIVE_PUSH_COALESCE_MAX_MS && Number(input.LIVE_PUSH_COALESCE_MS ?? 10) > Number(input.LIVE_PUSH_COALESCE_MAX_MS)) {
    problems.push('LIVE_PUSH_COALESCE_MAX_MS: must not be below LIVE_PUSH_COALESCE_MS');
  }
  if (Number(input.WEBRTC_MIN_PORT ?? 40000) > Number(input.WEBRTC_MAX_PORT ?? 49999)) {
    problems.push('WEBRTC_MIN_PORT: must not be above WEBRTC_MAX_PORT');
  }
  if (input.MEDIA_SERVICE === 'remote' && (!input.DATABASE_URL || !(input.REDIS_URL || input.REDIS_CLUSTER_NODES || input.REDIS_SENTINELS))) {
    problems.push('MEDIA_SERVICE: remote media workers share the gateways\' PostgreSQL and Redis; set DATABASE_URL and REDIS_URL (or a Redis Cluster or Sentinel)');
  }
  return problems;
}

/** Exactly one Redis mode; the settings of a mode only with that mode. */
function redisProblems(input: Record<string, string>): string[] {
  const problems: string[] = [];
  const modes = (['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const).filter((k) => input[k]);
  if (modes.length > 1) {
    problems.push(
      `${modes[0]}: set only one of REDIS_URL (standalone), REDIS_CLUSTER_NODES (Cluster) or REDIS_SENTINELS (Sentinel); found ${modes.join(' and ')}`,
    );
  }
  if (input.REDIS_SENTINELS && !input.REDIS_SENTINEL_NAME) {
    problems.push('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the master group name of `sentinel monitor`, often mymaster)');
  }
  for (const k of ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD'] as const) {
    if (input[k] && !input.REDIS_SENTINELS) problems.push(`${k}: only used with REDIS_SENTINELS, which is not set`);
  }
  for (const k of ['REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_TLS'] as const) {
    if (!input[k]) continue;
    if (input.REDIS_URL) problems.push(`${k}: with REDIS_URL, put credentials and TLS in the URL (rediss://user:password@host:6379)`);
    else if (!input.REDIS_CLUSTER_NODES && !input.REDIS_SENTINELS) problems.push(`${k}: only used with REDIS_CLUSTER_NODES or REDIS_SENTINELS, neither of which is set`);
  }
  return problems;
}

export type Config = Readonly<z.output<typeof configSchema>>;
export type ConfigInput = Partial<Record<keyof z.input<typeof configSchema>, string | number | boolean>>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parse settings from an environment-like map. Values are trimmed; empty ones count as unset. */
export function loadConfig(env: Record<string, string | number | boolean | undefined>): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const v = env[key] === undefined ? '' : String(env[key]).trim();
    if (v !== '') input[key] = v;
  }
  const parsed = configSchema.safeParse(input);
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`)),
    ...crossFieldProblems(input),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(parsed.data);
}
