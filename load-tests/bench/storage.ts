import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { registerCleanup } from './cleanup.ts';
import type { GatewayEnv } from './gateway-process.ts';

export type StorageKind = 'pglite' | 'postgres';

/** Fresh, empty storage for one gateway: the settings that point the gateway at it, and how to throw it away. */
export interface BenchStorage {
  readonly kind: StorageKind;
  /** DATA_DIR (PGlite) or DATABASE_URL (PostgreSQL). */
  readonly env: GatewayEnv;
  /** Where the data lives, for the report. */
  readonly location: string;
  /**
   * Refreshes planner statistics after seeding, so every run plans its queries on the same
   * footing instead of depending on whether autovacuum happened to pass. PostgreSQL only:
   * PGlite lives inside the gateway process and is not reachable from here (a no-op).
   */
  analyze(): Promise<void>;
  /** Deletes the directory or drops the database. Idempotent. */
  dispose(): Promise<void>;
}

export interface StorageOptions {
  /** Maintenance database on which scratch databases are created and dropped (trust or password in the URL). */
  postgresAdminUrl: string;
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => (done ??= fn());
}

async function withClient<T>(databaseUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A temp directory as the gateway's DATA_DIR; PGlite creates its files inside. */
async function pgliteStorage(): Promise<BenchStorage> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flock-bench-'));
  const dispose = once(() => rm(dir, { recursive: true, force: true }));
  const unregister = registerCleanup(dispose);
  return {
    kind: 'pglite',
    env: { DATA_DIR: dir },
    location: dir,
    analyze: async () => {},
    dispose: () => dispose().finally(unregister),
  };
}

/** CREATE DATABASE flock_bench_<random> on the admin server; DROP … WITH (FORCE) on dispose, even if a gateway is still connected. */
async function postgresStorage(adminUrl: string): Promise<BenchStorage> {
  const name = `flock_bench_${randomBytes(6).toString('hex')}`;
  // Registered before CREATE settles, so an interrupt during the CREATE still drops the database once it exists.
  const created = withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`)).then(
    () => null,
    (err: unknown) => err as Error,
  );
  const dispose = once(async () => {
    if ((await created) === null) await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  });
  const unregister = registerCleanup(dispose);
  const failed = await created;
  if (failed) {
    unregister();
    throw new Error(`cannot create a scratch database on ${adminUrl}: ${failed.message} (set BENCH_POSTGRES_URL)`, { cause: failed });
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    env: { DATABASE_URL: url.toString() },
    location: `${url.host}/${name}`,
    analyze: () => withClient(url.toString(), async (c) => void (await c.query('ANALYZE'))),
    dispose: () => dispose().finally(unregister),
  };
}

export function createStorage(kind: StorageKind, options: StorageOptions): Promise<BenchStorage> {
  return kind === 'pglite' ? pgliteStorage() : postgresStorage(options.postgresAdminUrl);
}

/** `SHOW server_version` of the admin server, for the report; null when it does not answer. */
export async function postgresServerVersion(adminUrl: string): Promise<string | null> {
  try {
    const res = await withClient(adminUrl, (c) => c.query<{ server_version: string }>('SHOW server_version'));
    return res.rows[0]?.server_version ?? null;
  } catch {
    return null;
  }
}
