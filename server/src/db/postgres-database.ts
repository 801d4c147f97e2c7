import pg from 'pg';
import type { Logger } from '../logger.ts';
import { unavailable } from '../errors.ts';
import type { Database, Queryable } from './database.ts';

/** Errors that mean "the database cannot be reached now", as opposed to a bad query. */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (/^(08|57P|53300)/.test(code)) return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN'].includes(code)) return true;
  }
  return /Connection terminated|timeout exceeded when trying to connect|connection error|Connection ended|not queryable/i.test(err.message);
}

export async function openPostgresDatabase(url: string, poolSize: number, log: Logger): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
    // Server-side guard against a query hanging forever on a half-dead link.
    query_timeout: 30_000,
  });
  // An idle client losing its connection emits here; unhandled it would crash the process.
  pool.on('error', (err) => log.warn({ err: err.message }, 'postgres idle client error'));

  const guard = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } catch (err) {
      if (isConnectionError(err)) throw unavailable('The database is unreachable');
      throw err;
    }
  };
  const wrap = (c: pg.Pool | pg.PoolClient): Queryable => ({
    async query<T>(sql: string, params: readonly unknown[] = []) {
      const r = await guard(c.query(sql, params as unknown[]));
      return r.rows as T[];
    },
  });

  return {
    kind: 'postgres',
    ...wrap(pool),
    async transaction(fn) {
      const client = await guard(pool.connect());
      let broken: Error | undefined;
      // A checked-out client whose connection drops between two statements emits 'error' on itself
      // (the pool only listens on idle ones); unhandled, that would crash the process.
      const onError = (err: Error) => {
        broken = err;
      };
      client.on('error', onError);
      try {
        await guard(client.query('BEGIN'));
        const out = await fn(wrap(client));
        await guard(client.query('COMMIT'));
        return out;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (e) {
          broken = e as Error; // connection is gone: do not return it to the pool
        }
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    exec: async (sql) => {
      await guard(pool.query(sql));
    },
    ping: async () => {
      await guard(pool.query('SELECT 1'));
    },
    close: () => pool.end(),
  };
}
