import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openPgliteDatabase } from '../../src/db/pglite-database.ts';
import { MemoryBodyCache } from '../../src/timeline/memory-body-cache.ts';
import { MemoryTimelineCache } from '../../src/timeline/memory-timeline-cache.ts';
import { checkHomeTimelineProperty } from './home-timeline.property.ts';

describe('home timeline on the memory caches and PGlite (the embedded default)', () => {
  let db: Database;

  beforeAll(async () => {
    db = await openPgliteDatabase('memory://');
    await migrate(db);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('equals the SQL timeline for random graphs and interleavings', async () => {
    await checkHomeTimelineProperty(
      {
        db,
        // A tiny LRU, so evictions by the store itself happen too.
        timelineCache: new MemoryTimelineCache({ capacity: 25, ttlMs: 60_000, maxUsers: 120 }),
        bodyCache: new MemoryBodyCache({ ttlMs: 60_000, guardMs: 10_000, maxEntries: 300 }),
      },
      { users: 150, numRuns: 4 },
    );
  }, 120_000);
});
