import type { Config, HostPort } from '../config.ts';

/** Credentials and TLS of the data nodes (Cluster and Sentinel; a standalone URL carries its own). */
export interface RedisAuth {
  username?: string;
  password?: string;
  tls: boolean;
}

/**
 * Which Redis the gateway shares state through: the one derived notion the
 * composition root tests ("is Redis configured, and how"). The config schema
 * guarantees at most one mode is set.
 */
export type RedisTarget =
  | { mode: 'standalone'; url: string }
  | ({ mode: 'cluster'; nodes: HostPort[] } & RedisAuth)
  | ({ mode: 'sentinel'; sentinels: HostPort[]; name: string; sentinelPassword?: string } & RedisAuth);

export type RedisMode = RedisTarget['mode'];

/** The Redis named by the config, or null when the gateway keeps its state in memory. */
export function redisTarget(config: Config): RedisTarget | null {
  const auth: RedisAuth = {
    ...(config.REDIS_USERNAME === undefined ? {} : { username: config.REDIS_USERNAME }),
    ...(config.REDIS_PASSWORD === undefined ? {} : { password: config.REDIS_PASSWORD }),
    tls: config.REDIS_TLS,
  };
  if (config.REDIS_URL) return { mode: 'standalone', url: config.REDIS_URL };
  if (config.REDIS_CLUSTER_NODES) return { mode: 'cluster', nodes: config.REDIS_CLUSTER_NODES, ...auth };
  if (config.REDIS_SENTINELS && config.REDIS_SENTINEL_NAME) {
    return {
      mode: 'sentinel',
      sentinels: config.REDIS_SENTINELS,
      name: config.REDIS_SENTINEL_NAME,
      ...(config.REDIS_SENTINEL_PASSWORD === undefined ? {} : { sentinelPassword: config.REDIS_SENTINEL_PASSWORD }),
      ...auth,
    };
  }
  return null;
}
