import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { childrenCpuSeconds } from './cpu.ts';
import type { LoadResult } from './load.ts';

/**
 * A fixed-duration run of `wrk` (the C load generator, Debian package `wrk`) against one GET
 * route, reduced to the figures `runLoad` (autocannon) reports. wrk costs the shared cores a
 * fraction of autocannon's CPU per request, so on a small machine the server under test gets
 * more of them (docs/benchmarks.md "timeline"). The same path and headers for every request:
 * requests that vary (bodies) stay with autocannon.
 */

export interface WrkSpec {
  /**
   * Base URL of the server, e.g. http://127.0.0.1:41234; several (nodes serving the same route):
   * one wrk thread per URL, the connections split evenly between them, one report for all.
   */
  url: string | readonly string[];
  path: string;
  headers: Record<string, string>;
  durationSeconds: number;
  connections: number;
  /** Paced: each connection waits this long after a response before its next request (whole ms). Default: none (saturation). */
  delayMs?: number;
}

export interface WrkResult extends LoadResult {
  /** CPU seconds wrk used (user + system), from the harness's reaped-children counters. */
  cpuSeconds: number | null;
}

const REPORT = path.join(import.meta.dirname, 'wrk-report.lua');
const MARK = 'FLOCK_WRK ';

/** Throws with an install hint when `wrk` is not on PATH. */
export function requireWrk(): void {
  const r = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (r.error) {
    throw new Error(
      `this benchmark drives its GET measurements with wrk, which is not installed (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}).\n` +
        '  Install it: apt-get install wrk (Debian/Ubuntu; bash .ci/run does it), brew install wrk (macOS), or build https://github.com/wg/wrk',
    );
  }
}

interface WrkReport {
  requests: number;
  durationUs: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  meanUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
}

/**
 * Runs wrk with one thread per server (a gateway node is one event loop; one wrk thread drives
 * tens of thousands of requests per second). Errors are wrk's: socket errors, timeouts, and
 * responses with a status of 400 or above (wrk does not count statuses one by one).
 */
export async function runWrk(spec: WrkSpec): Promise<WrkResult> {
  const urls = typeof spec.url === 'string' ? [spec.url] : spec.url;
  // wrk gives each thread connections / threads (rounded down): only a multiple is what it says.
  if (urls.length === 0 || spec.connections % urls.length !== 0) {
    throw new Error(`wrk needs a URL and the same number of connections for every URL (${urls.length} URLs, ${spec.connections} connections)`);
  }
  const args = ['-t', String(urls.length), '-c', String(spec.connections), '-d', `${spec.durationSeconds}s`, '--timeout', '10s', '-s', REPORT];
  for (const [k, v] of Object.entries(spec.headers)) args.push('-H', `${k}: ${v}`);
  args.push(new URL(spec.path, urls[0]).toString());
  // The script's setup() points thread i at the i-th address (wrk connects each thread to one).
  const addresses = urls
    .map((u) => {
      const url = new URL(u);
      return `${url.hostname.replace(/^\[|\]$/g, '')}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
    })
    .join(',');
  const cpu0 = await childrenCpuSeconds();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FLOCK_WRK_ADDRS: addresses, FLOCK_WRK_DELAY_MS: String(spec.delayMs ?? 0) } });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.once('error', reject);
    child.once('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
  });
  // wrk is reaped by now: its CPU time is in this process's children counters.
  const cpu1 = await childrenCpuSeconds();
  const line = stdout.split('\n').find((l) => l.startsWith(MARK));
  if (code !== 0 || line === undefined) throw new Error(`wrk failed (exit ${code}): ${(stderr || stdout).trim().slice(0, 500)}`);
  const r = JSON.parse(line.slice(MARK.length)) as WrkReport;
  const durationSeconds = r.durationUs / 1e6;
  const socketErrors = r.connect + r.read + r.write + r.timeout;
  return {
    responses: r.requests,
    durationSeconds,
    requestsPerSecond: r.requests / durationSeconds,
    latencyMs: { mean: r.meanUs / 1000, p50: r.p50Us / 1000, p90: r.p90Us / 1000, p99: r.p99Us / 1000, max: r.maxUs / 1000 },
    // wrk counts statuses ≥ 400 only; everything else is reported as the expected one.
    statuses: { ok: r.requests - r.status, '4xx/5xx': r.status },
    unexpectedStatus: r.status,
    socketErrors,
    timeouts: r.timeout,
    errors: r.status + socketErrors,
    cpuSeconds: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0,
  };
}
