import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';

export type RedisClient = Redis;

/**
 * Opens a Redis client from REDIS_URL. Command clients fail fast while Redis
 * is down (maxRetriesPerRequest 1, no offline queue) so callers can degrade;
 * pub/sub clients keep their queue so they resubscribe after a reconnect.
 * Errors are logged (throttled) and counted, never thrown at the process.
 */
export function openRedis(url: string, log: Logger, onError: () => void, opts: { subscriber?: boolean } = {}): RedisClient {
  const redis = new Redis(url, {
    maxRetriesPerRequest: opts.subscriber ? null : 1,
    enableOfflineQueue: Boolean(opts.subscriber),
    connectTimeout: 2000,
    retryStrategy: (n) => Math.min(n * 100, 2000),
  });
  let lastLog = 0;
  redis.on('error', (err) => {
    onError();
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      log.warn({ err: err.message }, 'redis error');
    }
  });
  return redis;
}
