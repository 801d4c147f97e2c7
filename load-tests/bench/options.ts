/** Harness settings shared by every benchmark scenario, read from BENCH_* environment variables. */
export interface BenchOptions {
  /** Measured seconds per route (BENCH_DURATION). @default 5 */
  durationSeconds: number;
  /** Concurrent HTTP connections of the load generator (BENCH_CONNECTIONS). @default 50 */
  connections: number;
  /** Unmeasured seconds of the same load before each measurement, to warm JIT and caches (BENCH_WARMUP; 0 disables). @default 1 */
  warmupSeconds: number;
  /** Times every configuration is measured (BENCH_ROUNDS); tables show medians. Rounds alternate the configuration order. @default 1 */
  rounds: number;
  /** Maintenance database on which scratch databases are created and dropped (BENCH_POSTGRES_URL). @default postgres://postgres@127.0.0.1:5432/postgres */
  postgresAdminUrl: string;
}

export const BENCH_ENV_HELP = `Environment:
  BENCH_DURATION      measured seconds per route (default 5)
  BENCH_CONNECTIONS   concurrent connections (default 50)
  BENCH_WARMUP        unmeasured warm-up seconds per route (default 1, 0 = none)
  BENCH_ROUNDS        measure every configuration this many times, in alternating
                      order, and report medians (default 1)
  BENCH_POSTGRES_URL  maintenance database for scratch databases
                      (default postgres://postgres@127.0.0.1:5432/postgres)`;

export class BenchOptionsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid benchmark settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'BenchOptionsError';
  }
}

/**
 * Reads numeric BENCH_* settings, collecting every problem into `problems` (empty strings count as
 * unset), so a scenario can list them all at once.
 */
export function numberReader(env: Record<string, string | undefined>, problems: string[]) {
  return (name: string, fallback: number, min: number, integer = true): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
      problems.push(`${name}=${raw}: expected ${integer ? 'an integer' : 'a number'} ≥ ${min}`);
      return fallback;
    }
    return n;
  };
}

/** Parses BENCH_* settings; every problem is listed at once. Empty strings count as unset. */
export function readBenchOptions(env: Record<string, string | undefined>): BenchOptions {
  const problems: string[] = [];
  const number = numberReader(env, problems);
  const options: BenchOptions = {
    durationSeconds: number('BENCH_DURATION', 5, 1, true),
    connections: number('BENCH_CONNECTIONS', 50, 1, true),
    warmupSeconds: number('BENCH_WARMUP', 1, 0, true),
    rounds: number('BENCH_ROUNDS', 1, 1, true),
    postgresAdminUrl: env.BENCH_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  };
  try {
    if (!['postgres:', 'postgresql:'].includes(new URL(options.postgresAdminUrl).protocol)) throw new Error();
  } catch {
    problems.push(`BENCH_POSTGRES_URL=${options.postgresAdminUrl}: expected a postgres:// URL`);
  }
  if (problems.length > 0) throw new BenchOptionsError(problems);
  return options;
}
