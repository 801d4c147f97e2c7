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
      // The driver's error stays as the cause, for the logs (clients get the generic message).
      if (isConnectionError(err)) throw unavailable('The database is unreachable', { cause: err });
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
      // A checked-out client whose connection drops between two queries (the transaction awaits
      // something else) emits 'error'; unhandled, that would crash the process. The next query
      // fails anyway, and the client is not returned to the pool.
      const onError = (err: Error) => {
        broken = err;
        log.warn({ err: err.message }, 'postgres connection lost inside a transaction');
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
