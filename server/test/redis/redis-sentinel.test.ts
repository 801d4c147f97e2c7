import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { RedisRateLimiter } from '../../src/rate-limit/redis-rate-limiter.ts';
import { openRedisClients, type RedisClients } from '../../src/redis/open-redis.ts';
import { redisTarget } from '../../src/redis/redis-target.ts';
import { until } from '../support/redis-cluster.ts';
import { startRedisSentinel, type RedisSentinelSet } from '../support/redis-sentinel.ts';
import { REDIS_SERVER_HINT, redisServerBinary } from '../support/services.ts';
import { startTestGateway, type TestGateway } from '../support/test-gateway.ts';

const silent = pino({ level: 'silent' });
const binaries = redisServerBinary();

describe('Redis Sentinel (one master, one replica, one sentinel)', () => {
  const prefix = `flocktest:${randomBytes(4).toString('hex')}:`;
  let set: RedisSentinelSet;
  let env: Record<string, string>;
  let t: TestGateway;
  let clients: RedisClients;
  const master = () => new Redis({ host: '127.0.0.1', port: set.masterPort, lazyConnect: true });

  beforeAll(async () => {
    if (!binaries) throw new Error(`this suite starts Redis Sentinel: ${REDIS_SERVER_HINT}`);
    set = await startRedisSentinel();
    env = { REDIS_SENTINELS: set.sentinels, REDIS_SENTINEL_NAME: set.name, REDIS_KEY_PREFIX: prefix };
  }, 30_000);
  afterAll(async () => {
    await clients?.close();
    await t?.close();
    await set?.stop();
  });

  it('serves a gateway through the master the sentinel names: ready, rate limits counted there', async () => {
    t = await startTestGateway('pglite', 'node', { ...env, RATE_LOGIN_PER_ACCOUNT: '2/1h' });
    await until(async () => (await t.api('GET', '/readyz')).body.checks?.redis === 'ok', 'redis ready through the sentinel');
    const u = await t.register('sn');
    const login = () => t.api('POST', '/v1/auth/login', { body: { handle: u.handle, password: 'wrong password!' } });
    expect((await login()).status).toBe(401);
    expect((await login()).status).toBe(401);
    expect((await login()).status).toBe(429);
    const direct = master();
    try {
      expect(await direct.keys(`${prefix}rl:*`)).not.toHaveLength(0);
    } finally {
      direct.disconnect();
    }
  });

  it('follows a failover: after SENTINEL FAILOVER the command client writes to the promoted replica', async () => {
    clients = openRedisClients(redisTarget(loadConfig(env))!, silent, () => {});
    const limiter = new RedisRateLimiter(clients.commands, prefix, silent);
    const rule = { limit: 5, windowMs: 60_000 };
    await until(async () => (await clients.commands.ping()) === 'PONG', 'command client connected');
    expect(await clients.commands.info('server')).toContain(`tcp_port:${set.masterPort}`);
    expect((await limiter.hit('failover', rule)).remaining).toBe(4);
    // The claim below is about the client following the switch, so make sure the replica has the
    // counter first (a busy machine can otherwise fail over before the write was replicated).
    expect(await clients.commands.call('WAIT', '1', '10000')).toBe(1);

    const sentinel = new Redis({ host: '127.0.0.1', port: set.sentinelPort });
    try {
      expect(await sentinel.call('SENTINEL', 'FAILOVER', set.name)).toBe('OK');
    } finally {
      sentinel.disconnect();
    }
    await set.sentinelSaid('+switch-master');
    await until(async () => (await clients.commands.info('server')).includes(`tcp_port:${set.replicaPort}`), 'command client on the new master');
    // The counter was replicated before the switch; the first hit that reaches the new master counts
    // on from it. While the client reconnects a hit fails open (remaining = limit, not counted), so
    // wait for the first counted one rather than racing the reconnect.
    let after: Awaited<ReturnType<RedisRateLimiter['hit']>> | null = null;
    await until(async () => (after = await limiter.hit('failover', rule)).remaining < rule.limit, 'a hit counted on the new master');
    expect(after).toEqual({ allowed: true, remaining: 3, retryAfterMs: 0 });
  }, 30_000);
});
