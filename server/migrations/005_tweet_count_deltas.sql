-- An author's tweet counter without a row lock on the tweet path (docs/realtime.md "Counters").
-- Posting or deleting a tweet inserts +1 / -1 here in the tweet's own transaction (an insert
-- takes no lock another insert waits for), instead of updating users.tweets_count, whose row
-- lock made one author's tweets commit one after another. After the commit the deltas are
-- folded into users.tweets_count in one statement of its own; reads add the deltas not yet
-- folded, so a count is exact at every read, and a delta left by a crash is folded later.
CREATE TABLE tweet_count_deltas (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  delta INT NOT NULL
);
CREATE INDEX tweet_count_deltas_by_user ON tweet_count_deltas (user_id);
