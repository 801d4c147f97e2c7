import type { ClusterOptions, RedisOptions } from 'ioredis';
import type { HostPort } from '../config.ts';
import type { RedisAuth, RedisTarget } from './redis-target.ts';

/**
 * What a client is for. `commands` fails fast while Redis is unreachable
 * (one retry, no offline queue) so callers degrade instead of piling up;
 * `publish` and `subscribe` keep their queue so broadcasts and subscriptions
 * resume after a reconnect. `subscribe` in a Cluster opens one subscriber
 * connection per master, which SSUBSCRIBE needs (a shard channel lives on the
 * master of its slot).
 */
export type RedisRole = 'commands' | 'publish' | 'subscribe';

/** The arguments of one ioredis constructor: `new Redis(url, options)`, `new Redis(options)` or `new Cluster(nodes, options)`. */
export type ClientRecipe =
  | { kind: 'redis'; url?: string; options: RedisOptions }
  | { kind: 'cluster'; nodes: HostPort[]; options: ClusterOptions };

const backoff = (attempt: number): number => Math.min(attempt * 100, 2000);

function connectionOptions(role: RedisRole): RedisOptions {
  return {
    maxRetriesPerRequest: role === 'commands' ? 1 : null,
    enableOfflineQueue: role !== 'commands',
    // Commands issued in the same tick (a page's timeline read and epoch, a fan-out's per-follower
    // scripts, concurrent requests) leave in one write instead of one syscall each.
    enableAutoPipelining: role === 'commands',
    connectTimeout: 2000,
    retryStrategy: backoff,
  };
}

function authOptions(auth: RedisAuth): RedisOptions {
  return {
    ...(auth.username === undefined ? {} : { username: auth.username }),
    ...(auth.password === undefined ? {} : { password: auth.password }),
    ...(auth.tls ? { tls: {} } : {}),
  };
}

/**
 * Pure: how to build the client of a role for a target (unit-tested; `openRedis` does the I/O).
 * `extra`: options on top, for standalone and Sentinel (a Cluster's are its own).
 */
export function clientRecipe(target: RedisTarget, role: RedisRole, extra: RedisOptions = {}): ClientRecipe {
  switch (target.mode) {
    case 'standalone':
      return { kind: 'redis', url: target.url, options: { ...connectionOptions(role), ...extra } };
    case 'sentinel':
      return {
        kind: 'redis',
        options: {
          ...connectionOptions(role),
          ...extra,
          ...authOptions(target),
          sentinels: target.sentinels.map((s) => ({ ...s })),
          name: target.name,
          ...(target.sentinelPassword === undefined ? {} : { sentinelPassword: target.sentinelPassword }),
          ...(target.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
          // Reconnect to the new master as soon as a sentinel announces a failover.
          failoverDetector: true,
        },
      };
    case 'cluster': {
      const { enableOfflineQueue, maxRetriesPerRequest, connectTimeout } = connectionOptions(role);
      return {
        kind: 'cluster',
        nodes: target.nodes.map((n) => ({ ...n })),
        options: {
          // The queue while the cluster is (re)connecting; each node connection's own
          // reconnects are the cluster's business (it follows MOVED and refreshes slots).
          enableOfflineQueue,
          enableAutoPipelining: role === 'commands',
          clusterRetryStrategy: backoff,
          shardedSubscribers: role === 'subscribe',
          redisOptions: { maxRetriesPerRequest, connectTimeout, ...authOptions(target) },
        },
      };
    }
  }
}
