import type { BenchClientKind } from './fanout-protocol.ts';
import { BenchOptionsError, numberReader } from './options.ts';

/** Settings of the `fanout` scenario, from BENCH_* environment variables (on top of the shared BenchOptions). */
export interface FanoutOptions {
  /** Connected sockets, one user each, split over the two nodes (BENCH_SOCKETS). @default 10000 */
  sockets: number;
  /** Other accounts each socket's user follows besides the author (BENCH_FOLLOWS). @default 200 */
  follows: number;
  /** Tweets per second in the fixed-rate phase (BENCH_FANOUT_RATE). @default 5 */
  rate: number;
  /** Seconds of the fixed-rate phase (BENCH_FANOUT_SECONDS). @default 10 */
  fixedSeconds: number;
  /** Seconds of the saturation phase; 0 skips it (BENCH_SATURATION_SECONDS). @default 10 */
  saturationSeconds: number;
  /** Tweets in flight (posted, not yet received by every socket) during saturation (BENCH_SATURATION_WINDOW). @default 8 */
  saturationWindow: number;
  /** Client worker processes (BENCH_CLIENT_WORKERS). @default ceil(sockets / 2500) */
  clientWorkers: number;
  /** Sockets of the plain-author-rooms memory run; 0 skips it (BENCH_PLAIN_SOCKETS). @default sockets */
  plainSockets: number;
  /** Seconds to wait after a phase for the last deliveries before counting the rest as lost (BENCH_DRAIN_TIMEOUT). @default 15 */
  drainTimeoutSeconds: number;
  /** Tweets of the burst phase, posted without waiting for deliveries; 0 skips it (BENCH_BURST_TWEETS). @default 50 */
  burstTweets: number;
  /** Posting lanes of the burst phase (BENCH_BURST_CONCURRENCY). @default 16 */
  burstConcurrency: number;
  /** The Socket.IO client the workers run, for every system alike (BENCH_CLIENT). @default 'light' */
  client: BenchClientKind;
}

const CLIENTS: readonly BenchClientKind[] = ['light', 'socket.io-client'];

export const FANOUT_ENV_HELP = `Environment of the fanout scenario (besides BENCH_WARMUP and BENCH_POSTGRES_URL):
  BENCH_SOCKETS             connected sockets, one user each (default 10000)
  BENCH_FOLLOWS             other accounts each user follows besides the author (default 200)
  BENCH_FANOUT_RATE         tweets/s in the fixed-rate phase (default 5)
  BENCH_FANOUT_SECONDS      seconds of the fixed-rate phase (default 10)
  BENCH_SATURATION_SECONDS  seconds of the saturation phase (default 10, 0 = skip)
  BENCH_SATURATION_WINDOW   tweets in flight during saturation (default 8)
  BENCH_CLIENT_WORKERS      client worker processes (default sockets/2500, rounded up)
  BENCH_PLAIN_SOCKETS       sockets of the plain-author-rooms run (default BENCH_SOCKETS, 0 = skip)
  BENCH_DRAIN_TIMEOUT       seconds to wait for the last deliveries of a phase (default 15)
  BENCH_BURST_TWEETS        tweets of the burst phase, posted without waiting for deliveries (default 50, 0 = skip)
  BENCH_BURST_CONCURRENCY   posting lanes of the burst phase (default 16)
  BENCH_CLIENT              light (default: socketio-wire over net) or socket.io-client`;

/** Sockets one client worker may hold: the process file limit here is 20,000. */
export const MAX_SOCKETS_PER_WORKER = 15_000;

export function readFanoutOptions(env: Record<string, string | undefined>): FanoutOptions {
  const problems: string[] = [];
  const number = numberReader(env, problems);
  const sockets = number('BENCH_SOCKETS', 10_000, 2);
  const options: FanoutOptions = {
    sockets,
    follows: number('BENCH_FOLLOWS', 200, 0),
    rate: number('BENCH_FANOUT_RATE', 5, 0.1, false),
    fixedSeconds: number('BENCH_FANOUT_SECONDS', 10, 1),
    saturationSeconds: number('BENCH_SATURATION_SECONDS', 10, 0),
    saturationWindow: number('BENCH_SATURATION_WINDOW', 8, 1),
    clientWorkers: number('BENCH_CLIENT_WORKERS', Math.ceil(sockets / 2500), 1),
    plainSockets: number('BENCH_PLAIN_SOCKETS', sockets, 0),
    drainTimeoutSeconds: number('BENCH_DRAIN_TIMEOUT', 15, 1),
    burstTweets: number('BENCH_BURST_TWEETS', 50, 0),
    burstConcurrency: number('BENCH_BURST_CONCURRENCY', 16, 1),
    client: 'light',
  };
  const client = env.BENCH_CLIENT ?? 'light';
  if ((CLIENTS as readonly string[]).includes(client)) options.client = client as BenchClientKind;
  else problems.push(`BENCH_CLIENT=${client}: one of ${CLIENTS.join(', ')}`);
  if (options.follows >= sockets) {
    problems.push(`BENCH_FOLLOWS=${options.follows}: must be below BENCH_SOCKETS (${sockets}); the followed accounts are the other socket users`);
  }
  if (options.plainSockets > sockets) problems.push(`BENCH_PLAIN_SOCKETS=${options.plainSockets}: at most BENCH_SOCKETS (${sockets})`);
  if (Math.ceil(sockets / options.clientWorkers) > MAX_SOCKETS_PER_WORKER) {
    problems.push(`BENCH_CLIENT_WORKERS=${options.clientWorkers}: ${Math.ceil(sockets / options.clientWorkers)} sockets per worker, keep it ≤ ${MAX_SOCKETS_PER_WORKER}`);
  }
  if (problems.length > 0) throw new BenchOptionsError(problems);
  return options;
}
