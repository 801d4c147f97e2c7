-- Live streams (DESIGN §7). One row is one broadcast: idle until its first publish, live while a
-- broadcaster publishes, ended for good afterwards (the recording stays playable as VOD).
CREATE TABLE streams (
  id BIGINT PRIMARY KEY,
  owner_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  -- sha256 of the stream key's secret part (hex); the key itself is shown once and never stored
  key_hash TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'idle' CHECK (status IN ('idle', 'live', 'ended')),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  started_at TIMESTAMPTZ,
  ended_at TIMESTAMPTZ
);
CREATE INDEX streams_by_owner ON streams (owner_id, id DESC);
CREATE INDEX streams_live ON streams (id DESC) WHERE status = 'live';
