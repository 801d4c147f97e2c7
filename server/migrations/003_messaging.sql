-- Messaging (DESIGN §6): topics with per-topic offsets, queues with leases and a dead-letter list.
-- Access lists hold user ids; NULL means "anyone signed in". The owner is always allowed.

CREATE TABLE topics (
  id BIGINT PRIMARY KEY,
  name TEXT NOT NULL,
  owner_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  publishers BIGINT[],
  subscribers BIGINT[],
  retention_count INT NOT NULL,
  retention_seconds INT NOT NULL,
  -- the per-topic counter: a publish takes this row's lock, so offsets are gap-free and commit in order
  last_offset BIGINT NOT NULL DEFAULT 0,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX topics_name_key ON topics (name);
CREATE INDEX topics_by_owner ON topics (owner_id);

CREATE TABLE topic_messages (
  topic_id BIGINT NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
  "offset" BIGINT NOT NULL,
  id BIGINT NOT NULL,
  -- exactly one of data (JSON text kept as sent) and bytes
  data JSON,
  bytes BYTEA,
  content_type TEXT NOT NULL,
  published_by BIGINT NOT NULL,
  published_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (topic_id, "offset")
);
CREATE INDEX topic_messages_by_age ON topic_messages (published_at);

CREATE TABLE queues (
  id BIGINT PRIMARY KEY,
  name TEXT NOT NULL,
  owner_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  senders BIGINT[],
  consumers BIGINT[],
  max_attempts INT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX queues_name_key ON queues (name);
CREATE INDEX queues_by_owner ON queues (owner_id);

CREATE TABLE queue_messages (
  id BIGINT PRIMARY KEY,
  queue_id BIGINT NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
  data JSON,
  bytes BYTEA,
  content_type TEXT NOT NULL,
  published_by BIGINT NOT NULL,
  published_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- deliveries so far; a receive increments it and pushes visible_at to the end of the lease
  attempts INT NOT NULL DEFAULT 0,
  visible_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- who received it last, and which receive call (a socket consumer releases its own leases by it)
  leased_by BIGINT,
  lease_id BIGINT,
  dead_at TIMESTAMPTZ
);
CREATE INDEX queue_messages_ready ON queue_messages (queue_id, visible_at, id) WHERE dead_at IS NULL;
-- leased at least once and ready again: the only candidates for the dead-letter list (a backlog of
-- never-delivered messages does not have to be scanned for them)
CREATE INDEX queue_messages_returned ON queue_messages (queue_id, visible_at) WHERE dead_at IS NULL AND attempts > 0;
CREATE INDEX queue_messages_dead ON queue_messages (queue_id, id) WHERE dead_at IS NOT NULL;
