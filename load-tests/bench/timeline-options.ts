import { BenchOptionsError, numberReader } from './options.ts';
import type { TimelinePlan } from './timeline-seed.ts';

/** Settings of `npm run bench -- timeline`, from BENCH_TIMELINE_* environment variables. */
export const TIMELINE_ENV_HELP = `Timeline scenario:
  BENCH_TIMELINE_CONNECTIONS   connections for the timeline reads (default 10)
  BENCH_TIMELINE_POST_CONNECTIONS  connections for the posts (default 4)
  BENCH_TIMELINE_FOLLOWED      accounts the reader follows (default 1000)
  BENCH_TIMELINE_FOLLOWERS     followers of the large author (default 1000000)`;

export interface TimelineOptions {
  readConnections: number;
  postConnections: number;
  plan: TimelinePlan;
}

export function readTimelineOptions(env: Record<string, string | undefined>): TimelineOptions {
  const problems: string[] = [];
  const number = numberReader(env, problems);
  const options: TimelineOptions = {
    readConnections: number('BENCH_TIMELINE_CONNECTIONS', 10, 1),
    postConnections: number('BENCH_TIMELINE_POST_CONNECTIONS', 4, 1),
    plan: {
      followedAuthors: number('BENCH_TIMELINE_FOLLOWED', 1000, 1),
      tweetsPerAuthor: 10,
      smallFollowers: 100,
      largeFollowers: number('BENCH_TIMELINE_FOLLOWERS', 1_000_000, 1),
    },
  };
  if (problems.length > 0) throw new BenchOptionsError(problems);
  return options;
}

