/**
 * The SQL seam. Two implementations: embedded PGlite (one process, files under
 * DATA_DIR) and PostgreSQL through a pg pool. Both speak the same SQL, run the
 * same migrations and return BIGINT columns as decimal strings and timestamps
 * as Date. Connection failures surface as FlockError FLOCK_ERR_UNAVAILABLE (503).
 */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs fn in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs a multi-statement script (migrations). */
  exec(sql: string): Promise<void>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** SQLSTATE of a unique violation, and the constraint that was hit. */
export function uniqueViolation(err: unknown): string | null {
  if (err && typeof err === 'object' && (err as { code?: unknown }).code === '23505') {
    const c = (err as { constraint?: unknown }).constraint;
    const d = (err as { detail?: unknown }).detail;
    return typeof c === 'string' ? c : typeof d === 'string' ? d : '';
  }
  return null;
}
