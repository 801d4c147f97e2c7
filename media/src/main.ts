/**
 * A standalone media worker (MEDIA_SERVICE=remote on the gateways): RTMP ingest on RTMP_PORT,
 * ffmpeg, LL-HLS packaging, and the HLS origin on PORT. It checks stream keys in the gateways'
 * PostgreSQL (DATABASE_URL) and talks to the gateways over Redis (REDIS_URL): reports go to
 * them, stop/remove commands come from them. Settings are the gateway's (one schema).
 */
import { ConfigError, createLogger, hlsStore, loadConfig, mediaOptions, type Config } from '@flock/server';
import { Redis } from 'ioredis';
import pg from 'pg';
import { authorizeStreamKey } from './control/stream-keys.ts';
import { listenForCommands, RedisStreamDirectory } from './control/redis-media-link.ts';
import { startOriginServer } from './hls/origin-http.ts';
import { MediaService } from './media-service.ts';

let config: Config;
try {
  config = loadConfig(process.env);
  if (!config.DATABASE_URL || !config.REDIS_URL) throw new ConfigError(['DATABASE_URL and REDIS_URL: a media worker needs the gateways\' PostgreSQL and (standalone) Redis']);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

const log = createLogger(config.LOG_LEVEL).child({ service: 'flock-media' });
const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 2 });
pool.on('error', (err) => log.warn({ err: err.message }, 'database error'));
const db = { query: async <T,>(sql: string, params?: readonly unknown[]) => (await pool.query(sql, params as unknown[])).rows as T[] };
const redis = new Redis(config.REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: null });
const sub = redis.duplicate();
for (const c of [redis, sub]) c.on('error', (err: Error) => log.warn({ err: err.message }, 'redis error'));

const media = new MediaService(
  mediaOptions(config, {
    store: hlsStore(config, log),
    directory: new RedisStreamDirectory(redis, config.REDIS_KEY_PREFIX, (key) => authorizeStreamKey(db, key)),
    log,
  }),
);

try {
  const stopListening = await listenForCommands(
    sub,
    config.REDIS_KEY_PREFIX,
    (c) => {
      const done = c.type === 'stop' ? media.stop(c.streamId) : media.remove(c.streamId);
      done.catch((err: unknown) => log.error({ err: (err as Error).message, command: c }, 'media command failed'));
    },
    log,
  );
  const rtmpPort = await media.start();
  const origin = await startOriginServer(media.origin, config.HOST, config.PORT, log);
  log.info({ port: origin.port, rtmpPort }, 'flock media worker listening');
  const shutdown = (signal: string) => {
    log.info({ signal }, 'media worker stopping');
    void (async () => {
      await stopListening();
      await media.close();
      await origin.close();
      await Promise.all([redis.quit(), sub.quit(), pool.end()]).catch(() => {});
      process.exit(0);
    })();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
} catch (err) {
  log.fatal({ err: (err as Error).message }, 'flock media worker failed to start');
  process.exit(1);
}
