import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import type { IdGenerator } from '../ids.ts';
import type { Logger } from '../logger.ts';
import type { RateLimiter } from '../rate-limit/rate-limiter.ts';
import type { DomainEvents } from './events.ts';

/** What domain services need; built once by the composition root. */
export interface DomainDeps {
  config: Config;
  db: Database;
  ids: IdGenerator;
  log: Logger;
  events: DomainEvents;
  limiter: RateLimiter;
}
