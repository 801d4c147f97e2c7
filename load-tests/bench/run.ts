import { runCleanups } from './cleanup.ts';
import { FANOUT_ENV_HELP } from './fanout-options.ts';
import { TIMELINE_ENV_HELP } from './timeline-options.ts';
import { MESSAGING_ENV_HELP } from './messaging-options.ts';
import { LIVE_ENV_HELP } from './live-options.ts';
import { BENCH_ENV_HELP, BenchOptionsError, readBenchOptions, type BenchOptions } from './options.ts';

/**
 * `npm run bench -- <scenario>`: the benchmark harness entry point. Each
 * scenario starts its own gateway child processes and resolves to an exit
 * code (non-zero when the run is not clean).
 */

interface Scenario {
  summary: string;
  /** The scenario's own settings (BENCH_* variables), printed with usage and with a BenchOptionsError it throws. */
  help?: string;
  run: (options: BenchOptions) => Promise<number>;
}

const SCENARIOS: Record<string, Scenario> = {
  http: {
    summary: 'req/s and p50/p99 of GET /v1/tweets/:id, GET /v1/timeline/home, POST /v1/tweets; uWS vs node:http, PGlite vs PostgreSQL',
    run: async (options) => (await import('./http.ts')).runHttpBenchmark(options),
  },
  fanout: {
    summary: 'live tweet delivery to N sockets on 2 nodes + Redis: deliveries/s, latency, CPU per million, RSS per socket, lost; Flock vs Socket.IO + classic Redis adapter',
    help: FANOUT_ENV_HELP,
    run: async (options) => (await import('./fanout.ts')).runFanoutBenchmark(options),
  },
  timeline: {
    summary: 'warm GET /v1/timeline/home (cached vs plain SQL, reader following 1,000) and POST /v1/tweets (100 vs 1,000,000 followers); PostgreSQL + Redis',
    help: TIMELINE_ENV_HELP,
    run: async (options) => (await import('./timeline.ts')).runTimelineBenchmark(options),
  },
  messaging: {
    summary: 'durable publish/send messages/s (single and batched), receive+ack with 4 consumers, publish→live receipt p50/p99 at 1,000 msg/s; PostgreSQL',
    help: MESSAGING_ENV_HELP,
    run: async (options) => (await import('./messaging.ts')).runMessagingBenchmark(options),
  },
  live: {
    summary: 'live video: capture→LL-HLS part fetchable, glass-to-glass in hls.js (LL and classic), CPU per stream (passthrough, 3-rung ladder), concurrent passthrough streams',
    help: LIVE_ENV_HELP,
    run: async (options) => (await import('./live.ts')).runLiveBenchmark(options),
  },
};

function usage(): string {
  const names = Object.entries(SCENARIOS).map(([name, s]) => `  ${name.padEnd(10)} ${s.summary}`);
  const helps = Object.values(SCENARIOS).flatMap((s) => (s.help ? [s.help] : []));
  return `Usage: npm run bench -- <scenario>\n\nScenarios:\n${names.join('\n')}\n\n${[BENCH_ENV_HELP, ...helps].join('\n\n')}\n`;
}

async function main(argv: readonly string[]): Promise<number> {
  const name = argv[0];
  const scenario = name === undefined ? undefined : SCENARIOS[name];
  if (!scenario) {
    if (name === '--help' || name === '-h') {
      process.stdout.write(usage());
      return 0;
    }
    process.stderr.write(`${name === undefined ? 'No scenario given.' : `Unknown scenario "${name}".`}\n\n${usage()}`);
    return 2;
  }
  let options: BenchOptions;
  try {
    options = readBenchOptions(process.env);
  } catch (err) {
    if (err instanceof BenchOptionsError) {
      process.stderr.write(`${err.message}\n\n${BENCH_ENV_HELP}\n`);
      return 2;
    }
    throw err;
  }
  try {
    return await scenario.run(options);
  } catch (err) {
    // A scenario reads its own settings first, before it starts anything.
    if (!(err instanceof BenchOptionsError)) throw err;
    process.stderr.write(`${err.message}\n\n${scenario.help ?? BENCH_ENV_HELP}\n`);
    return 2;
  }
}

// Ctrl-C: stop gateway children and drop scratch databases before leaving.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: cleaning up…\n`);
    void runCleanups().finally(() => process.exit(130));
  });
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  await runCleanups();
  process.exitCode = 1;
}
