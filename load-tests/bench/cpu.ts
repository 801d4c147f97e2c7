import { readFile } from 'node:fs/promises';

/**
 * Who used the CPU during a measurement. On a small machine the load
 * generator, the gateway, PostgreSQL and anything else running share the
 * same cores, so a figure means little without this. Linux only (/proc);
 * elsewhere the server and host shares are null.
 */

/** USER_HZ: the unit of the tick counts in /proc on Linux. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * The figures of a `/proc/<pid>/stat` line the benchmarks use. The fields counted after the
 * parenthesised command name (which may hold spaces): ppid is field 4 of the whole line, utime and
 * stime 14 and 15, cutime and cstime (reaped children) 16 and 17.
 */
export function parseProcStat(stat: string): { ppid: number; cpuSeconds: number; childrenCpuSeconds: number } {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    ppid: Number(f[1]),
    cpuSeconds: (Number(f[11]) + Number(f[12])) / CLOCK_TICKS_PER_SECOND,
    childrenCpuSeconds: (Number(f[13]) + Number(f[14])) / CLOCK_TICKS_PER_SECOND,
  };
}

/** CPU seconds (user + system, all threads) a process has used; null if it is gone or /proc is unavailable. */
export async function processCpuSeconds(pid: number): Promise<number | null> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8')).cpuSeconds;
  } catch {
    return null;
  }
}

/** CPU seconds of several processes together (the nodes of one system); null when any cannot be read. */
export async function cpuSecondsOf(pids: readonly number[]): Promise<number | null> {
  let total = 0;
  for (const pid of pids) {
    const seconds = await processCpuSeconds(pid);
    if (seconds === null) return null;
    total += seconds;
  }
  return total;
}

/**
 * CPU seconds (user + system) of this process's children that have ended and been reaped
 * (cutime + cstime of /proc/self/stat): the difference around a child's run is that child's CPU
 * time. Null where /proc is unavailable.
 */
export async function childrenCpuSeconds(): Promise<number | null> {
  try {
    return parseProcStat(await readFile('/proc/self/stat', 'utf8')).childrenCpuSeconds;
  } catch {
    return null;
  }
}

/** Busy CPU seconds of the whole machine since boot, all cores summed (everything but idle and iowait). */
export async function hostBusySeconds(): Promise<number | null> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]!;
    const [, ...ticks] = line.trim().split(/\s+/).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = ticks;
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** Shares in percent of one core (200 = two cores busy) over the metered interval. */
export interface CpuShares {
  /** The gateway process; null when unknown or when no server was metered. */
  server: number | null;
  /** The load generator: this process, plus its children that ended meanwhile (a wrk run). */
  client: number;
  /** Everything else on the machine: PostgreSQL backends, and any foreign load that skews the figures. */
  other: number | null;
}

/**
 * Starts metering (the server too, given its processes: the nodes of one system add up); the
 * returned function stops and reports the shares since the start.
 */
export async function startCpuMeter(serverPids: readonly number[] | null): Promise<() => Promise<CpuShares>> {
  const serverSeconds = (): Promise<number | null> => (serverPids === null ? Promise.resolve(null) : cpuSecondsOf(serverPids));
  const server0 = await serverSeconds();
  const host0 = await hostBusySeconds();
  const children0 = await childrenCpuSeconds();
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  return async () => {
    const seconds = (performance.now() - t0) / 1000;
    const clientUsage = process.cpuUsage(client0);
    const children1 = await childrenCpuSeconds();
    const server1 = await serverSeconds();
    const host1 = await hostBusySeconds();
    const pct = (cpuSeconds: number) => (cpuSeconds / seconds) * 100;
    const reaped = children0 === null || children1 === null ? 0 : children1 - children0;
    const client = pct((clientUsage.user + clientUsage.system) / 1e6 + reaped);
    const server = server0 === null || server1 === null ? null : pct(server1 - server0);
    const host = host0 === null || host1 === null ? null : pct(host1 - host0);
    const serverKnown = serverPids === null || server !== null;
    return { server, client, other: host === null || !serverKnown ? null : Math.max(0, host - (server ?? 0) - client) };
  };
}
