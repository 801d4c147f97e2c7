import pg from 'pg';
import type { FlockApi, Session } from './api.ts';
import { mapConcurrent, SEED_PASSWORD } from './seed.ts';

/**
 * The social graph of the fan-out benchmark, in the scratch PostgreSQL
 * database both gateways share:
 *
 * - `fanauthor`, registered over HTTP: the one account whose tweets are posted; every socket user
 *   follows it (N followers, a "large" account: one `author:` room).
 * - N socket users `fan0` … `fan<N-1>`, inserted with SQL (N logins over HTTP then give each a real
 *   session and access token). User i follows users i+1 … i+F (mod N): a ring lattice, so every
 *   user follows exactly F others and has exactly F followers, all "small" accounts (F is below
 *   LIVE_ROOM_THRESHOLD). They never post here; they exist so each socket follows F accounts,
 *   which is what room membership memory is about.
 *
 * Rows go straight in with SQL because 2,000,000 follows through the API would take hours. The
 * password hash is copied from an account registered over HTTP (`fantemplate`), so logins verify a
 * real scrypt hash, and the follower counters are set to match the rows (the push path reads
 * `followers_count` to choose between an author room and user rooms); the harness checks that.
 */

export interface FanoutUser {
  userId: string;
  handle: string;
  accessToken: string;
}

export interface FanoutSeed {
  author: Session;
  /** The socket users, in handle order. */
  users: FanoutUser[];
  followRows: number;
  sqlMs: number;
  loginMs: number;
}

/** Ids of the SQL-made users: far below the gateway's snowflake ids (ms since 2024 << 22). */
const FIRST_USER_ID = 1_000_000;
const LOGIN_CONCURRENCY = 32;

async function insertGraph(databaseUrl: string, authorId: string, passwordHash: string, n: number, follows: number): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO users (id, handle, email, password_hash, name, followers_count, following_count)
       SELECT $1::bigint + i, 'fan' || i, 'fan' || i || '@bench.flock.test', $2, 'Fan ' || i, $3::int, $3::int + 1
         FROM generate_series(0, $4::int - 1) AS i`,
      [FIRST_USER_ID, passwordHash, follows, n],
    );
    // Follow ids only need to be distinct per follower (they order follower lists).
    await client.query(
      `INSERT INTO follows (follower_id, followee_id, id)
       SELECT $1::bigint + i, $1::bigint + (i + k) % $2::int, i::bigint * ($3::int + 1) + k
         FROM generate_series(0, $2::int - 1) AS i CROSS JOIN generate_series(1, $3::int) AS k`,
      [FIRST_USER_ID, n, follows],
    );
    await client.query(
      `INSERT INTO follows (follower_id, followee_id, id)
       SELECT $1::bigint + i, $2::bigint, i::bigint * ($3::int + 1) FROM generate_series(0, $4::int - 1) AS i`,
      [FIRST_USER_ID, authorId, follows, n],
    );
    await client.query('UPDATE users SET followers_count = $2 WHERE id = $1', [authorId, n]);
    await client.query('COMMIT');
    const bad = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM users u
        WHERE u.followers_count <> (SELECT count(*) FROM follows f WHERE f.followee_id = u.id)
           OR u.following_count <> (SELECT count(*) FROM follows f WHERE f.follower_id = u.id)`,
    );
    if (bad.rows[0]?.n !== '0') throw new Error(`${bad.rows[0]?.n} users have follower counters that do not match their follow rows`);
    const rows = await client.query<{ n: string }>('SELECT count(*) AS n FROM follows');
    return Number(rows.rows[0]?.n);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    await client.end();
  }
}

async function login(api: FlockApi, handle: string): Promise<FanoutUser> {
  const body = (await api.request('POST', '/v1/auth/login', { body: { handle, password: SEED_PASSWORD }, expect: 200 })) as {
    accessToken?: unknown;
    user?: { id?: unknown };
  };
  if (typeof body.accessToken !== 'string' || typeof body.user?.id !== 'string') throw new Error(`login ${handle}: unexpected response`);
  return { userId: body.user.id, handle, accessToken: body.accessToken };
}

/** Builds the graph; `apis` are the gateway nodes, which take turns serving the logins. */
export async function seedFanout(apis: readonly FlockApi[], databaseUrl: string, n: number, follows: number): Promise<FanoutSeed> {
  const api = apis[0]!;
  const author = await api.register('fanauthor', SEED_PASSWORD);
  const template = await api.register('fantemplate', SEED_PASSWORD);
  const hash = await (async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const res = await client.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [template.userId]);
      return res.rows[0]!.password_hash;
    } finally {
      await client.end();
    }
  })();

  const sqlStarted = Date.now();
  const followRows = await insertGraph(databaseUrl, author.userId, hash, n, follows);
  const sqlMs = Date.now() - sqlStarted;

  const loginStarted = Date.now();
  const handles = Array.from({ length: n }, (_, i) => `fan${i}`);
  const users = await mapConcurrent(handles, LOGIN_CONCURRENCY, (h, i) => login(apis[i % apis.length]!, h));
  return { author, users, followRows, sqlMs, loginMs: Date.now() - loginStarted };
}
