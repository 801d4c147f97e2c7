import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Database } from './database.ts';
import { openPgliteDatabase } from './pglite-database.ts';
import { openPostgresDatabase } from './postgres-database.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** PGlite is one process's database: refuse a second process on the same DATA_DIR instead of corrupting it. */
function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, 'flock.pid');
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8'));
    if (pid && pid !== process.pid && alive(pid)) {
      throw new Error(`DATA_DIR ${dir} is in use by process ${pid}; give each embedded gateway its own DATA_DIR, or use DATABASE_URL for a cluster`);
    }
  }
  writeFileSync(lock, String(process.pid));
  return () => rmSync(lock, { force: true });
}

/**
 * PostgreSQL when DATABASE_URL is set (retrying until DB_CONNECT_TIMEOUT_MS
 * so nodes may start before the database), embedded PGlite under DATA_DIR
 * otherwise. DATA_DIR=memory:// keeps the embedded database in memory.
 */
export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  if (!config.DATABASE_URL) {
    if (config.DATA_DIR.startsWith('memory://')) return openPgliteDatabase('memory://', log);
    const unlock = lockDataDir(config.DATA_DIR);
    const db = await openPgliteDatabase(path.join(config.DATA_DIR, 'pglite'), log);
    return { ...db, close: async () => { await db.close(); unlock(); } };
  }
  const db = await openPostgresDatabase(config.DATABASE_URL, config.DB_POOL_SIZE, log);
  const deadline = Date.now() + config.DB_CONNECT_TIMEOUT_MS;
  for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
    try {
      await db.ping();
      return db;
    } catch (err) {
      if (Date.now() + delay > deadline) {
        await db.close().catch(() => {});
        throw new Error(`PostgreSQL at DATABASE_URL did not answer within ${config.DB_CONNECT_TIMEOUT_MS} ms: ${(err as Error).message}`);
      }
      log.warn({ retryInMs: delay }, 'waiting for PostgreSQL');
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
