import { Cluster, Redis } from 'ioredis';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { openRedisClients } from '../../src/redis/open-redis.ts';
import { clientRecipe } from '../../src/redis/redis-options.ts';
import { redisTarget, type RedisTarget } from '../../src/redis/redis-target.ts';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

const target = (env: Record<string, string>): RedisTarget | null => redisTarget(loadConfig(env));

describe('Redis settings', () => {
  it('names no Redis by default: state stays in memory', () => {
    expect(target({})).toBeNull();
  });

  it('reads each of the three modes', () => {
    expect(target({ REDIS_URL: 'rediss://u:p@cache:6380/2' })).toEqual({ mode: 'standalone', url: 'rediss://u:p@cache:6380/2' });
    expect(target({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7001,redis-2.internal:7002,[::1]:7003' })).toEqual({
      mode: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: 'redis-2.internal', port: 7002 },
        { host: '::1', port: 7003 },
      ],
      tls: false,
    });
    expect(
      target({
        REDIS_SENTINELS: 's1:26379,s2:26379',
        REDIS_SENTINEL_NAME: 'mymaster',
        REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
        REDIS_USERNAME: 'flock',
        REDIS_PASSWORD: 'data-secret',
        REDIS_TLS: 'true',
      }),
    ).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'mymaster',
      sentinelPassword: 'sentinel-secret',
      username: 'flock',
      password: 'data-secret',
      tls: true,
    });
  });

  it('refuses two modes at once, naming both', () => {
    const p = problems({ REDIS_URL: 'redis://cache:6379', REDIS_CLUSTER_NODES: '10.0.0.1:7000' });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^REDIS_URL: set only one of REDIS_URL \(standalone\), REDIS_CLUSTER_NODES \(Cluster\) or REDIS_SENTINELS \(Sentinel\)/);
    expect(p[0]).toContain('found REDIS_URL and REDIS_CLUSTER_NODES');
    const all = problems({ REDIS_URL: 'redis://cache:6379', REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINELS: 'b:2', REDIS_SENTINEL_NAME: 'm' });
    expect(all[0]).toContain('found REDIS_URL and REDIS_CLUSTER_NODES and REDIS_SENTINELS');
  });

  it('lists a conflict together with the other problems', () => {
    const p = problems({ REDIS_CLUSTER_NODES: '10.0.0.1:7000', REDIS_SENTINELS: 'nohost', PORT: 'x' });
    expect(p.map((x) => x.split(':')[0]).sort()).toEqual(['PORT', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS', 'REDIS_SENTINEL_NAME']);
  });

  it.each(['', ',', 'host', 'host:', ':6379', 'host:0', 'host:70000', 'a:1,,b:2', 'a:1;b:2', 'redis://a:1', '::1:6379'])(
    'rejects REDIS_CLUSTER_NODES=%j',
    (value) => {
      if (value === '') return expect(target({ REDIS_CLUSTER_NODES: value })).toBeNull(); // empty = unset
      expect(problems({ REDIS_CLUSTER_NODES: value }).map((x) => x.split(':')[0])).toEqual(['REDIS_CLUSTER_NODES']);
    },
  );

  it('asks for the master name with sentinels, and for sentinels with a master name', () => {
    expect(problems({ REDIS_SENTINELS: 's1:26379' })).toEqual([expect.stringMatching(/^REDIS_SENTINEL_NAME: required with REDIS_SENTINELS/)]);
    expect(problems({ REDIS_SENTINEL_NAME: 'mymaster' })).toEqual([expect.stringMatching(/^REDIS_SENTINEL_NAME: only used with REDIS_SENTINELS/)]);
    expect(problems({ REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINEL_PASSWORD: 'x' })).toEqual([
      expect.stringMatching(/^REDIS_SENTINEL_PASSWORD: only used with REDIS_SENTINELS/),
    ]);
  });

  it('keeps credentials of a standalone Redis in its URL, and refuses credentials for no Redis', () => {
    expect(problems({ REDIS_URL: 'redis://cache:6379', REDIS_PASSWORD: 'x', REDIS_TLS: 'true' }).map((x) => x.split(':')[0])).toEqual([
      'REDIS_PASSWORD',
      'REDIS_TLS',
    ]);
    expect(problems({ REDIS_URL: 'redis://cache:6379', REDIS_USERNAME: 'x' })[0]).toContain('put credentials and TLS in the URL');
    expect(problems({ REDIS_PASSWORD: 'x' })[0]).toMatch(/^REDIS_PASSWORD: only used with REDIS_CLUSTER_NODES or REDIS_SENTINELS/);
  });
});

describe('clients of each mode', () => {
  const cluster = target({ REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7001', REDIS_PASSWORD: 'pw', REDIS_TLS: 'yes' })!;
  const sentinel = target({ REDIS_SENTINELS: 's1:26379,s2:26380', REDIS_SENTINEL_NAME: 'mymaster', REDIS_SENTINEL_PASSWORD: 'spw', REDIS_PASSWORD: 'pw' })!;

  it('opens a standalone Redis from its URL; commands fail fast, pub/sub keep their queue', () => {
    const t = target({ REDIS_URL: 'redis://cache:6379' })!;
    expect(clientRecipe(t, 'commands')).toMatchObject({ kind: 'redis', url: 'redis://cache:6379', options: { maxRetriesPerRequest: 1, enableOfflineQueue: false } });
    for (const role of ['publish', 'subscribe'] as const) {
      expect(clientRecipe(t, role)).toMatchObject({ kind: 'redis', options: { maxRetriesPerRequest: null, enableOfflineQueue: true } });
    }
  });

  it('opens a Cluster from the seed nodes, with one sharded subscriber per master for the subscribe client only', () => {
    const commands = clientRecipe(cluster, 'commands');
    expect(commands).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
      options: expect.objectContaining({
        enableOfflineQueue: false,
        shardedSubscribers: false,
        redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 2000, password: 'pw', tls: {} },
      }),
    });
    expect(clientRecipe(cluster, 'publish').options).toMatchObject({ enableOfflineQueue: true, shardedSubscribers: false });
    expect(clientRecipe(cluster, 'subscribe').options).toMatchObject({ enableOfflineQueue: true, shardedSubscribers: true });
  });

  it('passes sentinels, master name and both passwords to ioredis', () => {
    const r = clientRecipe(sentinel, 'commands');
    expect(r.kind).toBe('redis');
    expect(r).not.toHaveProperty('url');
    expect(r.options).toMatchObject({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
      name: 'mymaster',
      sentinelPassword: 'spw',
      password: 'pw',
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      failoverDetector: true,
    });
    expect(r.options).not.toHaveProperty('tls');
    const tls = clientRecipe(target({ REDIS_SENTINELS: 's:1', REDIS_SENTINEL_NAME: 'm', REDIS_TLS: 'true' })!, 'publish');
    expect(tls.options).toMatchObject({ tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {} });
  });

  it('builds the three clients of the gateway as Cluster or Redis instances by mode', async () => {
    const silent = pino({ level: 'silent' });
    for (const [t, type] of [
      [cluster, Cluster],
      [sentinel, Redis],
    ] as const) {
      const clients = openRedisClients(t, silent, () => {});
      for (const c of [clients.commands, clients.publish, clients.subscribe]) expect(c).toBeInstanceOf(type);
      for (const c of [clients.commands, clients.publish, clients.subscribe]) c.disconnect();
    }
  });
});
