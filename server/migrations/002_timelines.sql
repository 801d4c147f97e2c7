-- Home timelines (docs/timelines.md). The cache itself lives in Redis or memory; PostgreSQL keeps
-- what must survive a crash: the fan-out jobs (an outbox written in the same transaction as the
-- change that caused them) and the authors whose tweets are merged at read time.

CREATE TABLE timeline_jobs (
  id BIGINT PRIMARY KEY,
  -- post: fan a tweet out to the author's followers; delete: take it back out;
  -- follow / unfollow: backfill or remove the followee's tweets in one follower's timeline;
  -- large: an author passed FANOUT_THRESHOLD, so every reader re-reads whom to merge at read time.
  kind TEXT NOT NULL CHECK (kind IN ('post', 'delete', 'follow', 'unfollow', 'large')),
  -- the author or followee: jobs of one author are processed one at a time (advisory lock)
  author_id BIGINT NOT NULL,
  tweet_id BIGINT,
  follower_id BIGINT,
  attempts INT NOT NULL DEFAULT 0,
  run_after TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_error TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX timeline_jobs_due ON timeline_jobs (run_after, id);

-- Authors who posted while they had at least FANOUT_THRESHOLD followers. Their tweets are not
-- fanned out but merged into readers' timelines at read time; an author stays here for good, so a
-- tweet posted while large is never missed after the author shrinks below the threshold.
CREATE TABLE timeline_large_authors (
  author_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  since TIMESTAMPTZ NOT NULL DEFAULT now()
);
