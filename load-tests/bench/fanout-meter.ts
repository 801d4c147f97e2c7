import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { cpuSecondsOf, hostBusySeconds, processCpuSeconds } from './cpu.ts';

/**
 * CPU and memory of the processes of a fan-out run, from /proc (Linux):
 * the server nodes (what the figures are about), Redis, the client workers,
 * this harness, the PostgreSQL backends of the scratch database (Flock),
 * and everything else on the host (foreign load, such as tests running at
 * the same time).
 */

export interface MeteredPids {
  servers: readonly number[];
  redis: number;
  clients: readonly number[];
  /** PostgreSQL backends serving the servers' database, looked up at each reading (Flock only). */
  database?: () => Promise<number[]>;
}

interface Snapshot {
  wallMs: number;
  servers: number;
  redis: number;
  clients: number;
  harness: number;
  /** CPU-seconds per PostgreSQL backend pid. */
  database: Map<number, number>;
  host: number | null;
}

/** CPU-seconds used over an interval, per group. */
export interface CpuUsage {
  wallSeconds: number;
  /** utime + stime of the server nodes, summed. */
  servers: number;
  redis: number;
  /** Client workers plus this harness (which posts the tweets). */
  clients: number;
  /** The PostgreSQL backends of the servers' database (backends that exit during the interval are missed). */
  database: number;
  /** Host busy time not accounted for above: PostgreSQL's own background processes and foreign load. Null off Linux. */
  other: number | null;
}

const sum = async (pids: readonly number[]): Promise<number> => (await cpuSecondsOf(pids)) ?? NaN;

async function snapshot(p: MeteredPids): Promise<Snapshot> {
  const database = new Map<number, number>();
  for (const pid of p.database ? await p.database() : []) {
    const seconds = await processCpuSeconds(pid);
    if (seconds !== null) database.set(pid, seconds);
  }
  const usage = process.cpuUsage();
  return {
    wallMs: performance.now(),
    servers: await sum(p.servers),
    redis: (await processCpuSeconds(p.redis)) ?? NaN,
    clients: await sum(p.clients),
    harness: (usage.user + usage.system) / 1e6,
    database,
    host: await hostBusySeconds(),
  };
}

/** Starts metering; the returned function gives the CPU-seconds used since. */
export async function startUsageMeter(p: MeteredPids): Promise<() => Promise<CpuUsage>> {
  const a = await snapshot(p);
  return async () => {
    const b = await snapshot(p);
    const servers = b.servers - a.servers;
    const redis = b.redis - a.redis;
    const clients = b.clients - a.clients + (b.harness - a.harness);
    // A backend that started during the interval counts from zero.
    let database = 0;
    for (const [pid, seconds] of b.database) database += seconds - (a.database.get(pid) ?? 0);
    const host = a.host === null || b.host === null ? null : b.host - a.host;
    return {
      wallSeconds: (b.wallMs - a.wallMs) / 1000,
      servers,
      redis,
      clients,
      database,
      other: host === null ? null : Math.max(0, host - servers - redis - clients - database),
    };
  };
}

/** Resident set size in bytes (VmRSS); NaN when the process is gone. */
export async function rssBytes(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    return kb === undefined ? NaN : Number(kb) * 1024;
  } catch {
    return NaN;
  }
}

export async function totalRssBytes(pids: readonly number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) total += await rssBytes(pid);
  return total;
}

/** Pids of the PostgreSQL backends connected to one database, through a client of its own (on the admin database). */
export async function postgresBackends(adminUrl: string, database: string): Promise<{ pids: () => Promise<number[]>; close: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  return {
    pids: async () => (await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database])).rows.map((r) => r.pid),
    close: () => client.end().catch(() => {}),
  };
}

export interface SettledRss {
  bytes: number;
  /** Seconds it took to settle. */
  seconds: number;
  /** False when it was still moving at the deadline. */
  settled: boolean;
}

/**
 * Total RSS of the processes once it stops moving. An idle Node process keeps shrinking for half
 * a minute after a burst of allocation (V8's memory reducer runs a few GCs seconds apart): two
 * gateways read 3 s after start-up showed 344 MB together and 218 MB 20 s later, which alone
 * would have hidden the sockets' cost. So: read once a second for at least `minSeconds`, until the last
 * `windowSeconds` readings lie within `toleranceBytes`, or `maxSeconds` pass.
 */
export async function settledRss(
  pids: readonly number[],
  o: { minSeconds: number; windowSeconds: number; maxSeconds: number; toleranceBytes: number },
): Promise<SettledRss> {
  const readings: number[] = [];
  const started = performance.now();
  for (;;) {
    readings.push(await totalRssBytes(pids));
    const seconds = (performance.now() - started) / 1000;
    const window = readings.slice(-o.windowSeconds);
    const stable = window.length === o.windowSeconds && Math.max(...window) - Math.min(...window) <= o.toleranceBytes;
    if ((stable && seconds >= o.minSeconds) || seconds >= o.maxSeconds) return { bytes: readings[readings.length - 1]!, seconds, settled: stable };
    await new Promise((r) => setTimeout(r, 1000));
  }
}
