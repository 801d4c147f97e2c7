import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.ts';
import { clientRecipe, type RedisRole } from './redis-options.ts';
import type { RedisTarget } from './redis-target.ts';

/** A client of any mode: standalone and Sentinel give a `Redis`, Cluster a `Cluster`. Both speak the same commands. */
export type RedisClient = Redis | Cluster;

/** The three connections a gateway holds; the composition root owns them and closes them once. */
export interface RedisClients {
  readonly commands: RedisClient;
  readonly publish: RedisClient;
  readonly subscribe: RedisClient;
  close(): Promise<void>;
}

/**
 * Opens one client of a role (see RedisRole) for a target, lazily: a Redis
 * that is down does not throw here, the client keeps reconnecting. Errors
 * (of the client and, in a Cluster, of each node) are counted and logged at
 * most every 5 s, never thrown at the process.
 */
export function openRedis(target: RedisTarget, role: RedisRole, log: Logger, onError: () => void, extra: RedisOptions = {}): RedisClient {
  const recipe = clientRecipe(target, role, extra);
  const client =
    recipe.kind === 'cluster'
      ? new Cluster(recipe.nodes, recipe.options)
      : recipe.url === undefined
        ? new Redis(recipe.options)
        : new Redis(recipe.url, recipe.options);
  let lastLog = 0;
  const report = (err: Error, node?: string) => {
    onError();
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      log.warn({ err: err.message, mode: target.mode, client: role, ...(node === undefined ? {} : { node }) }, 'redis error');
    }
  };
  client.on('error', (err: Error) => report(err));
  if (client instanceof Cluster) client.on('node error', (err: Error, node: string) => report(err, node));
  return client;
}

/** The command client and the pub/sub pair of the socket adapter, for whichever mode the target names. */
export function openRedisClients(target: RedisTarget, log: Logger, onError: (role: RedisRole) => void): RedisClients {
  const [commands, publish, subscribe] = (['commands', 'publish', 'subscribe'] as const).map((role) =>
    openRedis(target, role, log, () => onError(role)),
  ) as [RedisClient, RedisClient, RedisClient];
  let closing: Promise<void> | null = null;
  return {
    commands,
    publish,
    subscribe,
    close: () =>
      (closing ??= Promise.all(
        [commands, publish, subscribe].map((c) =>
          c.quit().then(
            () => {},
            () => c.disconnect(),
          ),
        ),
      ).then(() => {})),
  };
}
