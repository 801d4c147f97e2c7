import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FlockApi } from './api.ts';
import { startCpuMeter } from './cpu.ts';
import { startGatewayProcess, type GatewayLogLine } from './gateway-process.ts';
import {
  configLabel,
  failureAlarms,
  noiseAlarms,
  ratiosTable,
  resultsTable,
  sortSummaries,
  summarize,
  uwsNodeRatios,
  type HttpConfig,
  type HttpFailure,
  type HttpMeasurement,
  type HttpRatio,
  type HttpSummary,
} from './http-results.ts';
import { runLoad, type LoadMethod, type LoadRequest } from './load.ts';
import type { BenchOptions } from './options.ts';
import { banner, format, markdownTable, textTable } from './report.ts';
import { DEFAULT_SEED_PLAN, fillerText, seed, type SeededData } from './seed.ts';
import { createStorage, postgresServerVersion } from './storage.ts';
import { machine } from './machine.ts';

/**
 * `npm run bench -- http`: req/s and latency of three API routes, with the
 * gateway on uWebSockets.js and on the node:http fallback, on PGlite and on
 * PostgreSQL. Each configuration is a fresh gateway child on fresh storage,
 * seeded over the API; the load generator runs in this process.
 */

const CONFIGS: readonly HttpConfig[] = [
  { transport: 'uws', storage: 'pglite' },
  { transport: 'node', storage: 'pglite' },
  { transport: 'uws', storage: 'postgres' },
  { transport: 'node', storage: 'postgres' },
];

const TIMELINE_PAGE = 20;
/** Routes measured per configuration (see routes()). */
const ROUTE_COUNT = 3;
const RESULTS_DIR = path.resolve(import.meta.dirname, '..', '..', 'bench-results');

interface HttpRoute {
  name: string;
  method: LoadMethod;
  expectStatus: number;
  headers: Record<string, string>;
  nextRequest: () => LoadRequest;
}

/** The measured routes, in order: reads first, so the writes do not grow the data the reads see. */
function routes(data: SeededData): HttpRoute[] {
  const asReader = { authorization: `Bearer ${data.reader.accessToken}` };
  let posted = 0;
  return [
    {
      name: 'GET /v1/tweets/:id',
      method: 'GET',
      expectStatus: 200,
      headers: asReader,
      nextRequest: () => ({ path: `/v1/tweets/${data.tweetIds[Math.floor(Math.random() * data.tweetIds.length)]}` }),
    },
    {
      name: 'GET /v1/timeline/home',
      method: 'GET',
      expectStatus: 200,
      headers: asReader,
      nextRequest: () => ({ path: `/v1/timeline/home?limit=${TIMELINE_PAGE}` }),
    },
    {
      // Authors take turns, as many users posting at once would; one hot account would measure row-lock contention on its counter instead.
      name: 'POST /v1/tweets',
      method: 'POST',
      expectStatus: 201,
      headers: { 'content-type': 'application/json' },
      nextRequest: () => {
        const n = posted++;
        const author = data.authors[n % data.authors.length]!;
        return { path: '/v1/tweets', headers: { authorization: `Bearer ${author.accessToken}` }, body: JSON.stringify({ text: fillerText(1_000_000 + n) }) };
      },
    },
  ];
}

/** One request of the route outside the load, so a broken route fails loudly instead of being benchmarked. */
async function probe(baseUrl: string, route: HttpRoute): Promise<void> {
  const next = route.nextRequest();
  const res = await fetch(`${baseUrl}${next.path}`, {
    method: route.method,
    headers: { ...route.headers, ...next.headers },
    body: next.body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (res.status !== route.expectStatus) {
    throw new Error(`probe ${route.name}: expected ${route.expectStatus}, got ${res.status}: ${text.slice(0, 300)}`);
  }
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

interface ConfigOutcome {
  measurements: HttpMeasurement[];
  problems: readonly GatewayLogLine[];
  failure: string | null;
}

async function benchConfig(config: HttpConfig, round: number, options: BenchOptions): Promise<ConfigOutcome> {
  const outcome: ConfigOutcome = { measurements: [], problems: [], failure: null };
  const label = `${configLabel(config)}${options.rounds > 1 ? ` (round ${round}/${options.rounds})` : ''}`;
  try {
    const storage = await createStorage(config.storage, options);
    try {
      progress(`▶ ${label}: starting gateway on ${storage.location}`);
      const gateway = await startGatewayProcess({ env: { ...storage.env, HTTP_TRANSPORT: config.transport, MEDIA_SERVICE: 'off', SERVE_WEB_APP: 'false' } });
      try {
        const api = new FlockApi(gateway.url);
        const actual = await api.transportInUse();
        if (actual !== config.transport) throw new Error(`asked for HTTP_TRANSPORT=${config.transport}, /metrics says ${actual ?? 'nothing'}`);

        const started = Date.now();
        const data = await seed(api, DEFAULT_SEED_PLAN);
        const page = await api.homeTimeline(data.reader, TIMELINE_PAGE);
        if (page.length !== TIMELINE_PAGE) throw new Error(`seeded home timeline has ${page.length} tweets, expected ${TIMELINE_PAGE}`);
        await storage.analyze();
        progress(`  seeded ${data.authors.length + DEFAULT_SEED_PLAN.otherAuthors + 1} users, ${data.tweetIds.length} tweets in ${Date.now() - started} ms`);

        for (const route of routes(data)) {
          await probe(gateway.url, route);
          const spec = { url: gateway.url, ...route, connections: options.connections };
          if (options.warmupSeconds > 0) await runLoad({ ...spec, durationSeconds: options.warmupSeconds });
          const stopCpuMeter = await startCpuMeter([gateway.pid]);
          const load = await runLoad({ ...spec, durationSeconds: options.durationSeconds });
          outcome.measurements.push({ ...config, round, route: route.name, load, cpu: await stopCpuMeter() });
          progress(`  ${route.name}: ${Math.round(load.requestsPerSecond)} req/s, p99 ${load.latencyMs.p99} ms, ${load.errors} errors`);
          const exit = gateway.exit();
          if (exit) throw new Error(`gateway exited during ${route.name} (code ${exit.code}, signal ${exit.signal})`);
        }
      } finally {
        const exit = await gateway.stop();
        outcome.problems = gateway.problems();
        if (exit.killed) outcome.failure = 'gateway did not exit within the grace period after SIGTERM and was SIGKILLed';
        else if (exit.code !== 0 && exit.signal !== 'SIGTERM') outcome.failure ??= `gateway exited with code ${exit.code}`;
      }
    } finally {
      await storage.dispose();
    }
  } catch (err) {
    outcome.failure = (err as Error).message;
  }
  return outcome;
}

function withoutPassword(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/** CPU used by other processes over one second while the benchmark is idle, in percent of one core. */
async function foreignLoad(): Promise<number | null> {
  const stop = await startCpuMeter(null);
  await new Promise((r) => setTimeout(r, 1000));
  return (await stop()).other;
}


interface HttpReport {
  scenario: 'http';
  startedAt: string;
  finishedAt: string;
  host: ReturnType<typeof machine> & { postgres: string | null; busyBeforeStart: number | null };
  options: BenchOptions;
  seed: typeof DEFAULT_SEED_PLAN;
  measurements: HttpMeasurement[];
  summaries: HttpSummary[];
  ratios: HttpRatio[];
  failures: HttpFailure[];
  serverProblems: { config: string; lines: readonly GatewayLogLine[] }[];
}

async function writeReport(report: HttpReport): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `http-${report.startedAt.replace(/[:.]/g, '-')}.json`);
  const safe = { ...report, options: { ...report.options, postgresAdminUrl: withoutPassword(report.options.postgresAdminUrl) } };
  await writeFile(file, `${JSON.stringify(safe, null, 2)}\n`);
  return file;
}

function printReport(report: HttpReport, file: string): void {
  const { host, options } = report;
  const results = resultsTable(report.summaries);
  const ratios = ratiosTable(report.ratios);
  const heading =
    `${report.startedAt.slice(0, 10)} · ${options.durationSeconds} s per route, ${options.connections} connections` +
    `${options.rounds > 1 ? `, median of ${options.rounds} rounds` : ''} · ` +
    `${host.cpus} cores (${host.cpuModel}) shared by client and server · Node ${host.node}`;
  console.log(`\nHTTP benchmark — ${heading}\n`);
  console.log(textTable(results));
  console.log(`\nuWS ÷ node:http (req/s above 1 and latency below 1 favour uWS)\n`);
  console.log(textTable(ratios));
  console.log(`\nMarkdown (for docs/benchmarks.md):\n\n${heading}\n\n${markdownTable(results)}\n\n${markdownTable(ratios)}`);
  console.log(`\nFull results: ${path.relative(process.cwd(), file)}`);

  const problemCount = report.serverProblems.reduce((n, p) => n + p.lines.length, 0);
  if (problemCount > 0) {
    console.log(`\nThe gateway logged ${problemCount} warning/error line(s):`);
    for (const p of report.serverProblems) for (const line of p.lines.slice(0, 5)) console.log(`  [${p.config}] ${line.text.slice(0, 400)}`);
  }
}

/** Runs every configuration, prints the tables, writes bench-results/http-<timestamp>.json; resolves to the exit code. */
export async function runHttpBenchmark(options: BenchOptions): Promise<number> {
  const startedAt = new Date().toISOString();
  const host = { ...machine(), postgres: await postgresServerVersion(options.postgresAdminUrl), busyBeforeStart: await foreignLoad() };
  progress(
    `http benchmark: ${options.durationSeconds} s per route after ${options.warmupSeconds} s warm-up, ${options.connections} connections; ` +
      `${options.rounds} round(s); ${host.cpus} × ${host.cpuModel}, Node ${host.node}, PostgreSQL ${host.postgres ?? 'unreachable'}; ` +
      `other processes busy ${format.percent(host.busyBeforeStart)} of a core before start`,
  );

  const report: HttpReport = {
    scenario: 'http',
    startedAt,
    finishedAt: startedAt,
    host,
    options,
    seed: DEFAULT_SEED_PLAN,
    measurements: [],
    summaries: [],
    ratios: [],
    failures: [],
    serverProblems: [],
  };
  for (let round = 1; round <= options.rounds; round++) {
    // Alternate the order so slow drift (caches, PostgreSQL background work) does not always favour the same configuration.
    const order = round % 2 === 1 ? CONFIGS : [...CONFIGS].reverse();
    for (const config of order) {
      const outcome = await benchConfig(config, round, options);
      report.measurements.push(...outcome.measurements);
      if (outcome.problems.length > 0) report.serverProblems.push({ config: `${configLabel(config)} round ${round}`, lines: outcome.problems });
      if (outcome.failure) {
        report.failures.push({ ...config, round, message: outcome.failure });
        progress(`  ✗ ${configLabel(config)} FAILED: ${outcome.failure}`);
      }
    }
  }
  report.summaries = sortSummaries(summarize(report.measurements), CONFIGS);
  report.ratios = uwsNodeRatios(report.summaries);
  report.finishedAt = new Date().toISOString();

  const file = await writeReport(report);
  printReport(report, file);

  const noise = noiseAlarms(report.measurements, host.busyBeforeStart);
  if (noise.length > 0) console.log(`\n${banner(['OTHER PROCESSES WERE BUSY: figures are skewed; rerun on a quiet machine.', ...noise])}`);
  const alarms = failureAlarms(report.measurements, report.failures, CONFIGS.length * ROUTE_COUNT * options.rounds);
  if (alarms.length > 0) {
    console.log(`\n${banner(['THIS BENCHMARK RUN IS NOT CLEAN: the figures above are not comparable.', ...alarms])}`);
    return 1;
  }
  return 0;
}
