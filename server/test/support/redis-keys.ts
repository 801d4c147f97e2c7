import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { REDIS_URL, assertService, redisAvailable } from './services.ts';

/** A key prefix unique to this test run, so suites share one Redis without cleanup between tests. */
export const runPrefix = (): string => `flocktest:${process.pid}:${randomBytes(4).toString('hex')}:`;

/** Deletes every key under the prefix (SCAN, never KEYS on a shared server's whole keyspace). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (batch.length > 0) await redis.del(...batch);
    cursor = next;
  } while (cursor !== '0');
}

/**
 * For a suite on the shared Redis: fails it with the install hint when Redis is missing, opens one
 * client, and deletes every key under the run's prefix afterwards. Call at suite level.
 */
export function useTestRedis(): { redis: () => Redis; prefix: string } {
  const prefix = runPrefix();
  let client: Redis | undefined;
  beforeAll(async () => {
    assertService('redis', await redisAvailable());
    client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    await client.ping();
  });
  afterAll(async () => {
    if (!client) return;
    await deleteKeys(client, prefix);
    await client.quit();
  });
  return {
    prefix,
    redis: () => {
      if (!client) throw new Error('Redis is not open yet (use it inside tests)');
      return client;
    },
  };
}
