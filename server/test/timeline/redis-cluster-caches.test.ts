import { Cluster } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openRedis } from '../../src/redis/open-redis.ts';
import { redisTarget } from '../../src/redis/redis-target.ts';
import { RedisBodyCache } from '../../src/timeline/redis-body-cache.ts';
import { RedisTimelineCache } from '../../src/timeline/redis-timeline-cache.ts';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.ts';
import { runPrefix } from '../support/redis-keys.ts';
import { REDIS_SERVER_HINT, redisServerBinary } from '../support/services.ts';
import { bodyCacheContract } from './body-cache.contract.ts';
import { timelineCacheContract } from './timeline-cache.contract.ts';

const binaries = redisServerBinary();

/**
 * The Redis caches on a real Redis Cluster (3 masters): every script touches one slot (the user id
 * is the hash tag) and body reads spread over slots, so any cross-slot command would fail here
 * with CROSSSLOT.
 */
describe('timeline and body caches on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  const prefix = runPrefix();

  beforeAll(async () => {
    if (!binaries) throw new Error(`this suite starts a Redis Cluster: ${REDIS_SERVER_HINT}`);
    cluster = await startRedisCluster(3);
    const target = redisTarget(loadConfig({ REDIS_CLUSTER_NODES: cluster.nodes }));
    client = openRedis(target!, 'commands', pino({ level: 'silent' }), () => {}) as Cluster;
    expect(client).toBeInstanceOf(Cluster);
    await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  }, 30_000);
  afterAll(async () => {
    await client?.quit();
    await cluster?.stop();
  });

  describe('RedisTimelineCache', () => {
    timelineCacheContract(async (opts) => new RedisTimelineCache(client, prefix, opts));

    it('reads a page without prefetching bodies (their keys lie in other slots)', async () => {
      const cache = new RedisTimelineCache(client, prefix, { capacity: 10, ttlMs: 30_000, bodyKeyPrefix: RedisBodyCache.keyOf(prefix, 'tw:') });
      await new RedisBodyCache(client, prefix, { ttlMs: 30_000, guardMs: 1000 }).fill([['tw:9', '{"id":"9"}']]);
      await cache.fill('71', await cache.beginRebuild('71'), { ids: ['9'], floor: null, large: [], largeEpoch: '0' });
      expect(await cache.readPage('71', {}, 5, 5)).toEqual({ state: await cache.read('71', {}, 5), epoch: await cache.largeEpoch(), bodies: null });
    });
  });
  describe('RedisBodyCache', () => {
    bodyCacheContract(async (opts) => new RedisBodyCache(client, prefix, opts));
  });
});
