import os from 'node:os';
import { BenchOptionsError, numberReader } from './options.ts';
import type { TimelinePlan } from './timeline-seed.ts';

/** Settings of `npm run bench -- timeline`, from BENCH_TIMELINE_* environment variables. */
export const TIMELINE_ENV_HELP = `Timeline scenario:
  BENCH_TIMELINE_CONNECTIONS   connections for the timeline reads (default 10)
  BENCH_TIMELINE_POST_CONNECTIONS  connections for the posts (default 4)
  BENCH_TIMELINE_NODES         gateway nodes per read path, one per core (default: the cores, ${os.cpus().length} here)
  BENCH_TIMELINE_PACE_MS       the cached GETs again, each connection waiting this long between requests,
                               for the p99 below saturation (default 1; 0 = no paced run, p99 at saturation)
  BENCH_TIMELINE_WARMUP        unmeasured seconds of the same load before a measurement whose nodes sat idle
                               (each path's saturated GETs, the first posts; default 10: a node's heap
                               settles in the first seconds of load after idle); the others keep BENCH_WARMUP
  BENCH_TIMELINE_FOLLOWED      accounts the reader follows (default 1000)
  BENCH_TIMELINE_FOLLOWERS     followers of the large author (default 1000000)`;

export interface TimelineOptions {
  /** Gateway processes of each read path (cached, SQL), one per core as deployed: the GETs spread over them. */
  nodes: number;
  readConnections: number;
  /**
   * Warm-up of a measurement whose nodes sat idle before it (each read path's saturated GETs, the
   * first posts). Longer than BENCH_WARMUP: a gateway that sat idle (the seeding, the other
   * path's run) resizes its heap in the first 5-7 s of load (one full collection of about 20 ms),
   * which is start-up, not the steady state measured (docs/benchmarks.md, "Timeline p99").
   */
  idleWarmupSeconds: number;
  /** Paced cached GETs: ms each connection waits between requests; 0 = none. */
  paceMs: number;
  postConnections: number;
  plan: TimelinePlan;
}

export function readTimelineOptions(env: Record<string, string | undefined>): TimelineOptions {
  const problems: string[] = [];
  const number = numberReader(env, problems);
  const options: TimelineOptions = {
    nodes: number('BENCH_TIMELINE_NODES', os.cpus().length, 1),
    readConnections: number('BENCH_TIMELINE_CONNECTIONS', 10, 1),
    // Whole seconds: wrk's -d takes no fractions.
    idleWarmupSeconds: number('BENCH_TIMELINE_WARMUP', 10, 0),
    paceMs: number('BENCH_TIMELINE_PACE_MS', 1, 0),
    postConnections: number('BENCH_TIMELINE_POST_CONNECTIONS', 4, 1),
    plan: {
      followedAuthors: number('BENCH_TIMELINE_FOLLOWED', 1000, 1),
      tweetsPerAuthor: 10,
      smallFollowers: 100,
      largeFollowers: number('BENCH_TIMELINE_FOLLOWERS', 1_000_000, 1),
    },
  };
  if (options.readConnections % options.nodes !== 0) {
    problems.push(`BENCH_TIMELINE_CONNECTIONS (${options.readConnections}) must be a multiple of BENCH_TIMELINE_NODES (${options.nodes}): wrk gives every node the same number`);
  }
  if (problems.length > 0) throw new BenchOptionsError(problems);
  return options;
}

