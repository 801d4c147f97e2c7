import { describe, expect, it, vi } from 'vitest';
import type { Database } from '../../src/db/database.ts';
import type { Logger } from '../../src/logger.ts';
import { TopicService } from '../../src/messaging/topics.ts';

// A gateway stops the retention sweeper before it closes the database: a sweep under way must
// finish first, or it fails against a closed pool ("Cannot use a pool after calling end on the pool").
describe('topic retention sweeper', () => {
  it('stopSweeper waits for the sweep under way, and no sweep starts after it', async () => {
    vi.useFakeTimers();
    try {
      let finish: (rows: { n: string }[]) => void = () => {};
      const query = vi.fn(() => new Promise<{ n: string }[]>((resolve) => (finish = resolve)));
      const warn = vi.fn();
      const topics = new TopicService({ db: { query } as unknown as Database, config: {} as never, ids: {} as never, events: {} as never });
      topics.startSweeper(100, { warn, debug: vi.fn() } as unknown as Logger);
      vi.advanceTimersByTime(100);
      expect(query).toHaveBeenCalledTimes(1);

      let stopped = false;
      const stopping = topics.stopSweeper().then(() => (stopped = true));
      await vi.advanceTimersByTimeAsync(1000);
      expect(stopped).toBe(false); // the sweep's query has not answered yet
      finish([{ n: '0' }]);
      await stopping;
      expect(stopped).toBe(true);
      await vi.advanceTimersByTimeAsync(1000);
      expect(query).toHaveBeenCalledTimes(1);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });
});
