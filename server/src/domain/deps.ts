import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import type { IdGenerator } from '../ids.ts';
import type { Logger } from '../logger.ts';
import type { RateLimiter } from '../rate-limit/rate-limiter.ts';
import type { HomeTimelineReader } from '../timeline/home-timeline.ts';
import type { TimelineJobRunner } from '../timeline/timeline-jobs.ts';
import type { TweetBodies } from '../timeline/tweet-bodies.ts';
import type { DomainEvents } from './events.ts';

/** What domain services need; built once by the composition root. */
export interface DomainDeps {
  config: Config;
  db: Database;
  ids: IdGenerator;
  log: Logger;
  events: DomainEvents;
  limiter: RateLimiter;
  /** The home-timeline read path (cached or plain SQL, by TIMELINE_READ_PATH). */
  home: HomeTimelineReader;
  /** Cached tweet bodies; writers tell it what their commit changed. */
  bodies: TweetBodies;
  /** Applies the fan-out jobs a commit enqueued (small ones before the response, big ones in the background). */
  fanout: TimelineJobRunner;
}
