import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePorts, spawnRedisServer, type RedisServerProcess } from './redis-cluster.ts';

export interface RedisSentinelSet {
  /** Master group name the sentinel monitors. */
  readonly name: string;
  readonly masterPort: number;
  readonly replicaPort: number;
  readonly sentinelPort: number;
  /** `127.0.0.1:<port>`, the value of REDIS_SENTINELS. */
  readonly sentinels: string;
  /** Resolves once the sentinel logs a line containing `text` (after it knew the replica), e.g. `+switch-master`. */
  sentinelSaid(text: string, timeoutMs?: number): Promise<void>;
  /** Kills every process and removes the temporary directory. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * A master, one replica and one sentinel (quorum 1) monitoring them as
 * `name`, all private processes on OS-chosen ports. Resolves once the replica
 * is in sync and the sentinel knows it, so a `SENTINEL FAILOVER` can promote it.
 */
export async function startRedisSentinel(name = 'mymaster'): Promise<RedisSentinelSet> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flock-redis-sentinel-'));
  const procs: RedisServerProcess[] = [];
  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      await Promise.all(procs.map((p) => p.stop()));
      await rm(dir, { recursive: true, force: true });
    })());
  try {
    const [masterPort, replicaPort, sentinelPort] = (await freePorts(3)) as [number, number, number];
    const server = (port: number, ...extra: string[]) => [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...extra,
    ];
    // No 5 s wait before the replica's first (diskless) sync.
    procs.push(await spawnRedisServer(masterPort, server(masterPort, '--repl-diskless-sync-delay', '0')));
    procs.push(await spawnRedisServer(replicaPort, server(replicaPort, '--replicaof', '127.0.0.1', String(masterPort)), 'MASTER <-> REPLICA sync: Finished with success'));
    const conf = path.join(dir, 'sentinel.conf');
    await writeFile(
      conf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
        `sentinel down-after-milliseconds ${name} 2000`,
        `sentinel failover-timeout ${name} 10000`,
        '',
      ].join('\n'),
    );
    let log = '';
    const listeners: (() => void)[] = [];
    const sentinel = await spawnRedisServer(sentinelPort, [conf, '--sentinel'], '+slave slave');
    procs.push(sentinel);
    for (const stream of [sentinel.child.stdout!, sentinel.child.stderr!]) {
      stream.on('data', (d: Buffer) => {
        log += d.toString();
        for (const l of [...listeners]) l();
      });
    }
    return {
      name,
      masterPort,
      replicaPort,
      sentinelPort,
      sentinels: `127.0.0.1:${sentinelPort}`,
      sentinelSaid: (text, timeoutMs = 15_000) =>
        new Promise<void>((resolve, reject) => {
          const check = () => {
            if (!log.includes(text)) return;
            listeners.splice(listeners.indexOf(check), 1);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(() => {
            listeners.splice(listeners.indexOf(check), 1);
            reject(new Error(`sentinel did not log ${JSON.stringify(text)} within ${timeoutMs} ms:\n${log}`));
          }, timeoutMs);
          listeners.push(check);
          check();
        }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
