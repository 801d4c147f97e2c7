import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FanoutOptions } from './fanout-options.ts';
import { cpuTable, deliveryTable, memoryTable, targetsTable, type SystemResult, type TargetCheck } from './fanout-results.ts';
import { banner, format, markdownTable, textTable } from './report.ts';

/** The fan-out benchmark's JSON file, console tables and clean-run checks. */

const RESULTS_DIR = path.resolve(import.meta.dirname, '..', '..', 'bench-results');
/** Percent of one core; above this, foreign load (or PostgreSQL, for Flock) competed for the CPU. */
const BUSY_THRESHOLD = 20;

export interface FanoutReport {
  scenario: 'fanout';
  startedAt: string;
  finishedAt: string;
  host: { cpus: number; cpuModel: string; memoryGiB: number; os: string; node: string; postgres: string | null; redis: string; busyBeforeStart: number | null };
  options: FanoutOptions & { warmupSeconds: number; liveRoomThreshold: number };
  seed: { users: number; followRows: number; sqlMs: number; loginMs: number } | null;
  /** JSON size of one `tweet` event's payload ({id, tweet}). */
  payloadBytes: number | null;
  systems: SystemResult[];
  harnessFailure: string | null;
  targets: TargetCheck[];
}

export async function writeFanoutReport(report: FanoutReport): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `fanout-${report.startedAt.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

/** Lines that make the run not clean: the figures are not comparable. */
function failureAlarms(report: FanoutReport): string[] {
  const alarms: string[] = [];
  if (report.harnessFailure) alarms.push(`harness: ${report.harnessFailure.split('\n')[0]}`);
  for (const s of report.systems) {
    if (s.failure) alarms.push(`${s.label}: ${s.failure.split('\n')[0]}`);
    for (const p of s.phases) {
      if (p.postErrors) alarms.push(`${s.label} ${p.name}: ${p.postErrors} posts failed (${p.postErrorSamples[0] ?? ''})`);
      if (p.disconnects) alarms.push(`${s.label} ${p.name}: ${p.disconnects} sockets disconnected (${p.disconnectReasons.join(', ')})`);
      if (p.duplicates || p.unexpected) alarms.push(`${s.label} ${p.name}: ${p.duplicates} duplicate and ${p.unexpected} unexpected deliveries`);
      if (p.drainTimedOut) alarms.push(`${s.label} ${p.name}: deliveries still missing at the drain timeout (${p.lost} lost)`);
    }
  }
  return alarms;
}

/** Other processes' share of the CPU (percent of a core) per phase: neither servers, clients, Redis nor the database's backends. */
function noiseAlarms(report: FanoutReport): string[] {
  const alarms: string[] = [];
  if (report.host.busyBeforeStart !== null && report.host.busyBeforeStart > BUSY_THRESHOLD) {
    alarms.push(`other processes used ${format.percent(report.host.busyBeforeStart)} of a core in the second before the run`);
  }
  for (const s of report.systems) {
    for (const p of s.phases) {
      if (p.name === 'warmup' || p.cpu.other === null) continue;
      const pct = (p.cpu.other / p.cpu.wallSeconds) * 100;
      if (pct > BUSY_THRESHOLD) {
        alarms.push(`${s.label} ${p.name}: other processes used ${format.percent(pct)} of a core`);
      }
    }
  }
  return alarms;
}

/** Prints the tables (text and Markdown) and alarms; resolves to the exit code (1 when the run is not clean). */
export function printFanoutReport(report: FanoutReport, file: string): number {
  const { host, options: o } = report;
  const heading =
    `${report.startedAt.slice(0, 10)} · ${o.sockets} sockets (plain-rooms run: ${o.plainSockets}), each following the author + ${o.follows} accounts, ` +
    `2 nodes + Redis ${host.redis} + PostgreSQL ${host.postgres ?? '?'}, ${o.clientWorkers} client workers (${o.client}) · fixed ${o.rate} tweets/s × ${o.fixedSeconds} s, ` +
    `saturation ${o.saturationSeconds} s with ${o.saturationWindow} tweets in flight · payload ${report.payloadBytes ?? '?'} B · ` +
    `${host.cpus} cores (${host.cpuModel}), ${host.memoryGiB} GiB, shared by clients and servers · Node ${host.node}`;
  const tables = [deliveryTable(report.systems), cpuTable(report.systems), memoryTable(report.systems), targetsTable(report.targets)];
  console.log(`\nFan-out benchmark — ${heading}\n`);
  for (const t of tables) console.log(`${textTable(t)}\n`);
  console.log(`Markdown (for docs/benchmarks.md):\n\n${heading}\n\n${tables.map(markdownTable).join('\n\n')}`);
  if (report.seed) {
    const s = report.seed;
    console.log(`\nSeed: ${s.users} users and ${s.followRows} follow rows by SQL in ${(s.sqlMs / 1000).toFixed(1)} s; ${s.users} logins over HTTP in ${(s.loginMs / 1000).toFixed(1)} s.`);
  }
  console.log(`\nFull results: ${path.relative(process.cwd(), file)}`);

  for (const s of report.systems) {
    if (s.problems.length === 0) continue;
    console.log(`\n${s.label}: the servers logged ${s.problems.length} warning/error line(s):`);
    for (const line of s.problems.slice(0, 5)) console.log(`  ${line.slice(0, 400)}`);
  }
  const noise = noiseAlarms(report);
  if (noise.length > 0) console.log(`\n${banner(['OTHER PROCESSES WERE BUSY: figures may be skewed.', ...noise])}`);
  const missed = report.targets.filter((t) => t.met === false).map((t) => `${t.metric}: ${t.flock} (target ${t.target})`);
  if (missed.length > 0) console.log(`\n${banner(['TARGETS MISSED:', ...missed])}`);
  const alarms = failureAlarms(report);
  if (alarms.length > 0) {
    console.log(`\n${banner(['THIS BENCHMARK RUN IS NOT CLEAN: the figures above are not comparable.', ...alarms])}`);
    return 1;
  }
  return 0;
}
