import type { Queryable } from '../db/database.ts';
import type { TimelineQuery } from '../domain/tweets.ts';
import { HOME_WHERE, tweetList } from '../domain/tweet-list.ts';
import type { HomeTimelineReader, TimelinePage } from './home-timeline.ts';

/** The plain-SQL home timeline: the source of truth, the fallback of the cached path, and TIMELINE_READ_PATH=sql. */
export class SqlHomeTimeline implements HomeTimelineReader {
  constructor(private readonly db: Queryable) {}

  home(userId: string, q: TimelineQuery): Promise<TimelinePage> {
    return tweetList(this.db, HOME_WHERE, userId, q);
  }

  async homeJson(userId: string, q: TimelineQuery): Promise<string> {
    return JSON.stringify(await this.home(userId, q));
  }
}
