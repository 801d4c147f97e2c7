import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

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
