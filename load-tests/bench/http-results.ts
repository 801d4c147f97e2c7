import type { CpuShares } from './cpu.ts';
import type { LoadResult } from './load.ts';
import { format, type Table } from './report.ts';
import type { StorageKind } from './storage.ts';

/** What the http scenario measured, the per-configuration summaries and the tables made of them; pure. */

export type TransportKind = 'uws' | 'node';

export interface HttpConfig {
  transport: TransportKind;
  storage: StorageKind;
}

/** One route measured once on one configuration. */
export interface HttpMeasurement extends HttpConfig {
  /** 1-based. */
  round: number;
  /** e.g. "GET /v1/tweets/:id" */
  route: string;
  load: LoadResult;
  /** CPU during the measurement, in percent of one core. */
  cpu: CpuShares;
}

/** A configuration that could not be measured (completely or in part). */
export interface HttpFailure extends HttpConfig {
  round: number;
  message: string;
}

/** Medians over the rounds of one route on one configuration (the plain figures when there is one round). */
export interface HttpSummary extends HttpConfig {
  route: string;
  rounds: number;
  requestsPerSecond: number;
  requestsPerSecondMin: number;
  requestsPerSecondMax: number;
  p50: number;
  p99: number;
  /** Summed over the rounds. */
  errors: number;
  cpu: CpuShares;
}

/** uws ÷ node for one storage and route: above 1 is better for req/s, below 1 is better for latency. */
export interface HttpRatio {
  storage: StorageKind;
  route: string;
  requestsPerSecond: number | null;
  p50: number | null;
  p99: number | null;
}

export const configLabel = (c: HttpConfig) => `${c.transport} + ${c.storage}`;

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const medianOrNull = (values: readonly (number | null)[]) => (values.some((v) => v === null) ? null : median(values as number[]));

/** One summary per (configuration, route), in the order first measured. */
export function summarize(measurements: readonly HttpMeasurement[]): HttpSummary[] {
  const groups = new Map<string, HttpMeasurement[]>();
  for (const m of measurements) {
    const key = `${m.transport} ${m.storage} ${m.route}`;
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  return [...groups.values()].map((ms) => {
    const rps = ms.map((m) => m.load.requestsPerSecond);
    const first = ms[0]!;
    return {
      transport: first.transport,
      storage: first.storage,
      route: first.route,
      rounds: ms.length,
      requestsPerSecond: median(rps),
      requestsPerSecondMin: Math.min(...rps),
      requestsPerSecondMax: Math.max(...rps),
      p50: median(ms.map((m) => m.load.latencyMs.p50)),
      p99: median(ms.map((m) => m.load.latencyMs.p99)),
      errors: ms.reduce((n, m) => n + m.load.errors, 0),
      cpu: {
        server: medianOrNull(ms.map((m) => m.cpu.server)),
        client: median(ms.map((m) => m.cpu.client)),
        other: medianOrNull(ms.map((m) => m.cpu.other)),
      },
    };
  });
}

/** The order of configurations in the tables: storage, then transport as configured. */
export function sortSummaries(summaries: readonly HttpSummary[], configs: readonly HttpConfig[]): HttpSummary[] {
  const rank = (s: HttpSummary) => configs.findIndex((c) => c.transport === s.transport && c.storage === s.storage);
  return [...summaries].sort((a, b) => rank(a) - rank(b));
}

export function uwsNodeRatios(summaries: readonly HttpSummary[]): HttpRatio[] {
  const find = (t: TransportKind, s: StorageKind, route: string) => summaries.find((m) => m.transport === t && m.storage === s && m.route === route);
  const div = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? null : a / b);
  const keys = new Map<string, { storage: StorageKind; route: string }>();
  for (const m of summaries) keys.set(`${m.storage} ${m.route}`, { storage: m.storage, route: m.route });
  return [...keys.values()].map(({ storage, route }) => {
    const uws = find('uws', storage, route);
    const node = find('node', storage, route);
    return {
      storage,
      route,
      requestsPerSecond: div(uws?.requestsPerSecond, node?.requestsPerSecond),
      p50: div(uws?.p50, node?.p50),
      p99: div(uws?.p99, node?.p99),
    };
  });
}

/** With several rounds, the req/s column is the median and a min–max column shows the spread. */
export function resultsTable(summaries: readonly HttpSummary[]): Table {
  const spread = summaries.some((s) => s.rounds > 1);
  return {
    headers: [
      'transport',
      'storage',
      'route',
      'req/s',
      ...(spread ? ['req/s min–max'] : []),
      'p50 ms',
      'p99 ms',
      'errors',
      'server CPU',
      'client CPU',
      'other CPU',
    ],
    align: ['left', 'left', 'left', 'right', ...(spread ? (['right'] as const) : []), 'right', 'right', 'right', 'right', 'right', 'right'],
    rows: summaries.map((s) => [
      s.transport,
      s.storage,
      s.route,
      format.count(s.requestsPerSecond),
      ...(spread ? [`${format.count(s.requestsPerSecondMin)}–${format.count(s.requestsPerSecondMax)}`] : []),
      format.ms(s.p50),
      format.ms(s.p99),
      s.errors === 0 ? '0' : `${format.count(s.errors)} ⚠`,
      format.percent(s.cpu.server),
      format.percent(s.cpu.client),
      format.percent(s.cpu.other),
    ]),
  };
}

export function ratiosTable(ratios: readonly HttpRatio[]): Table {
  return {
    headers: ['storage', 'route', 'req/s uws÷node', 'p50 uws÷node', 'p99 uws÷node'],
    align: ['left', 'left', 'right', 'right', 'right'],
    rows: ratios.map((r) => [r.storage, r.route, format.ratio(r.requestsPerSecond), format.ratio(r.p50), format.ratio(r.p99)]),
  };
}

/** Why a run is not clean: failed configurations, missing measurements, and every measurement with errors. */
export function failureAlarms(measurements: readonly HttpMeasurement[], failures: readonly HttpFailure[], expected: number): string[] {
  const errors = measurements
    .filter((m) => m.load.errors > 0)
    .map((m) => {
      const statuses = Object.entries(m.load.statuses)
        .map(([code, n]) => `${code}×${n}`)
        .join(', ');
      return `${configLabel(m)} ${m.route} (round ${m.round}): ${m.load.errors} errors of ${m.load.responses} responses (statuses ${statuses || 'none'}; socket errors ${m.load.socketErrors}, timeouts ${m.load.timeouts})`;
    });
  return [
    ...failures.map((f) => `${configLabel(f)} (round ${f.round}) FAILED: ${f.message.split('\n')[0]}`),
    ...(measurements.length < expected ? [`only ${measurements.length} of ${expected} measurements completed`] : []),
    ...errors,
  ];
}

/** On pglite rows the database lives inside the gateway, so an "other" CPU share above this (percent of a core) is foreign load. */
export const FOREIGN_LOAD_THRESHOLD = 20;

/** Signs that other processes competed for the cores: before the run, or during a pglite measurement. */
export function noiseAlarms(measurements: readonly HttpMeasurement[], busyBeforeStart: number | null): string[] {
  return [
    ...(busyBeforeStart !== null && busyBeforeStart > FOREIGN_LOAD_THRESHOLD
      ? [`other processes used ${format.percent(busyBeforeStart)} of a core in the second before the run`]
      : []),
    ...measurements
      .filter((m) => m.storage === 'pglite' && m.cpu.other !== null && m.cpu.other > FOREIGN_LOAD_THRESHOLD)
      .map((m) => `${configLabel(m)} ${m.route} (round ${m.round}): other processes used ${format.percent(m.cpu.other)} of a core`),
  ];
}
