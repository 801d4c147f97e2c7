import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';

/**
 * Private redis-server processes for tests that need a topology the shared
 * Redis on 6379 cannot give (Redis Cluster, Sentinel). Everything listens on
 * 127.0.0.1 on ports the OS hands out, keeps nothing on disk but a temporary
 * directory, and is killed (also if the test worker exits early) by `stop()`.
 */

/** `count` distinct free TCP ports: all bound at once (so they differ), then released. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const s = net.createServer();
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve());
      });
      return s;
    }),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

const live = new Set<ChildProcess>();
// A worker that dies mid-suite must not leave redis-servers behind.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A redis-server (or sentinel) child process. */
export interface RedisServerProcess {
  readonly port: number;
  readonly child: ChildProcess;
  /** SIGTERM, SIGKILL after 2 s; resolves once the process is gone. */
  stop(): Promise<void>;
}

/**
 * Spawns `redis-server <args>` and resolves once its log says `readyLine`
 * (for a server: "Ready to accept connections"); rejects with the log if it
 * exits first or says nothing within `timeoutMs`.
 */
export function spawnRedisServer(port: number, args: string[], readyLine = 'Ready to accept connections', timeoutMs = 10_000): Promise<RedisServerProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
  };
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`redis-server on port ${port} was not ready within ${timeoutMs} ms:\n${log}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      log += d.toString();
      if (log.includes(readyLine)) {
        clearTimeout(timer);
        resolve({ port, child, stop });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`redis-server could not start (apt-get install redis-server): ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`redis-server on port ${port} exited (${code ?? signal}) before it was ready:\n${log}`));
    });
  });
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Polls `check` every 25 ms until it returns true; throws `what` when `timeoutMs` passes first. */
export async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface RedisCluster {
  /** Client ports of the masters. */
  readonly ports: number[];
  /** `127.0.0.1:p1,127.0.0.1:p2,…`, the value of REDIS_CLUSTER_NODES. */
  readonly nodes: string;
  /** Runs `fn` with a plain connection to every master (for per-node commands such as PUBSUB SHARDNUMSUB). */
  eachNode<T>(fn: (node: Redis) => Promise<T>): Promise<T[]>;
  /** Kills every process and removes the temporary directory. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts a Redis Cluster of `masters` (≥ 3) masters without replicas:
 * `redis-server --cluster-enabled yes` per node (client and cluster-bus ports
 * both from the OS), `redis-cli --cluster create`, then waits until every
 * node reports `cluster_state:ok` and knows every other node.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flock-redis-cluster-'));
  const procs: RedisServerProcess[] = [];
  const conns: Redis[] = [];
  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      for (const c of conns) c.disconnect();
      await Promise.all(procs.map((p) => p.stop()));
      await rm(dir, { recursive: true, force: true });
    })());
  try {
    const ports = await freePorts(masters * 2);
    const clientPorts = ports.slice(0, masters);
    for (const [i, port] of clientPorts.entries()) {
      procs.push(
        await spawnRedisServer(port, [
          '--port', String(port),
          '--cluster-port', String(ports[masters + i]),
          '--bind', '127.0.0.1',
          '--cluster-enabled', 'yes',
          '--cluster-config-file', path.join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout', '5000',
          '--dir', dir,
          '--save', '',
          '--appendonly', 'no',
        ]),
      );
    }
    await run('redis-cli', ['--cluster', 'create', ...clientPorts.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    for (const port of clientPorts) {
      const c = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, lazyConnect: true });
      c.on('error', () => {}); // reported by the commands that fail
      conns.push(c);
    }
    await until(async () => {
      const infos = await Promise.all(conns.map((c) => c.cluster('INFO') as Promise<string>));
      return infos.every((info) => info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${masters}`));
    }, 'Redis Cluster reaching cluster_state:ok on every node');
    return {
      ports: clientPorts,
      nodes: clientPorts.map((p) => `127.0.0.1:${p}`).join(','),
      eachNode: (fn) => Promise.all(conns.map(fn)),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
