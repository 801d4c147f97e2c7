import { createShardedAdapter } from '@socket.io/redis-adapter';
import type { Cluster, Redis } from 'ioredis';

export type AdapterFactory = ReturnType<typeof createShardedAdapter>;

/**
 * The cluster bus of the sockets: Socket.IO's sharded Redis adapter (Redis ≥ 7
 * SPUBLISH/SSUBSCRIBE) in dynamic mode, so a node subscribes only to the rooms
 * it has members in and receives only their broadcasts. Broadcasts are
 * at-most-once: a message published while Redis is unreachable is lost, which
 * is why everything that matters is durable first and recovered with `sync`.
 */
export function redisAdapter(pub: Redis | Cluster, sub: Redis | Cluster, prefix: string): AdapterFactory {
  return createShardedAdapter(pub, sub, { channelPrefix: `${prefix}sio`, subscriptionMode: 'dynamic' });
}
