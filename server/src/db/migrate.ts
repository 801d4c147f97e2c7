import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Database } from './database.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const list = readdirSync(dir)
    .filter((f) => /^\d{3,}_[\w-]+\.sql$/.test(f))
    .map((f) => ({ version: Number(f.split('_')[0]), name: f, sql: readFileSync(path.join(dir, f), 'utf8') }))
    .sort((a, b) => a.version - b.version);
  // Two files with one version: the second would be skipped silently as "already applied".
  for (let i = 1; i < list.length; i++) {
    if (list[i]!.version === list[i - 1]!.version) throw new Error(`migrations ${list[i - 1]!.name} and ${list[i]!.name} share a version`);
  }
  return list;
}

/**
 * Applies the versioned migrations not yet applied, each in its own
 * transaction, under an advisory lock so that several nodes starting at once
 * apply each migration exactly once. Returns the versions applied now.
 */
export async function migrate(db: Database, migrations = listMigrations()): Promise<number[]> {
  // Even CREATE TABLE IF NOT EXISTS races between sessions (on pg_type), so take the lock first.
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(7310431)');
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
  });
  const applied: number[] = [];
  for (const m of migrations) {
    const done = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(7310431)');
      const rows = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
      if (rows.length > 0) return false;
      // Statements one by one: the extended protocol takes a single statement.
      for (const stmt of splitStatements(m.sql)) await tx.query(stmt);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}

/** Splits a migration on semicolons at line ends; migrations keep one statement per `;\n`. */
export function splitStatements(sql: string): string[] {
  return sql
    .replace(/^\s*--.*$/gm, '')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}
