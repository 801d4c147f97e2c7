import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.ts';
import { listMigrations, migrate, splitStatements, type Migration } from '../../src/db/migrate.ts';
import { openPgliteDatabase } from '../../src/db/pglite-database.ts';

describe('splitStatements', () => {
  it('splits on a semicolon at the end of a line', () => {
    expect(splitStatements('CREATE TABLE a (x INT);\nCREATE TABLE b (y INT);\n')).toEqual(['CREATE TABLE a (x INT)', 'CREATE TABLE b (y INT)']);
  });

  it('keeps a statement that spans several lines whole', () => {
    const sql = 'CREATE TABLE a (\n  x INT,\n  y TEXT\n);\nCREATE INDEX a_x ON a (x);';
    expect(splitStatements(sql)).toEqual(['CREATE TABLE a (\n  x INT,\n  y TEXT\n)', 'CREATE INDEX a_x ON a (x)']);
  });

  it('keeps the last statement without a semicolon', () => {
    expect(splitStatements('SELECT 1;\nSELECT 2')).toEqual(['SELECT 1', 'SELECT 2']);
  });

  it('does not split on a semicolon inside a line', () => {
    expect(splitStatements("INSERT INTO t VALUES ('a;b');\n")).toEqual(["INSERT INTO t VALUES ('a;b')"]);
  });

  it('drops comment lines, including ones ending in a semicolon', () => {
    const sql = '-- header;\nCREATE TABLE a (\n  -- why x;\n  x INT\n);\n  -- trailing note\n';
    expect(splitStatements(sql)).toEqual(['CREATE TABLE a (\n\n  x INT\n)']);
  });

  it('handles CRLF line endings and trailing whitespace after the semicolon', () => {
    expect(splitStatements('SELECT 1;  \r\nSELECT 2;\r\n')).toEqual(['SELECT 1', 'SELECT 2']);
  });

  it('returns nothing for blank or comment-only text', () => {
    expect(splitStatements('')).toEqual([]);
    expect(splitStatements('\n  \n-- only a comment\n')).toEqual([]);
  });

  it('splits the shipped migrations into single statements', () => {
    for (const m of listMigrations()) {
      const stmts = splitStatements(m.sql);
      expect(stmts.length).toBeGreaterThan(0);
      for (const s of stmts) expect(s, `${m.name}: ${s.slice(0, 60)}`).toMatch(/^(CREATE|ALTER|INSERT|DROP|COMMENT|UPDATE|DO)\b/i);
    }
  });
});

describe('listMigrations', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'flock-migrations-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lists NNN_name.sql files in version order and ignores other files', () => {
    for (const f of ['002_second.sql', '001_first.sql', '010_tenth.sql', 'README.md', '3_short.sql', '004_draft.sql.bak']) {
      writeFileSync(path.join(dir, f), `-- ${f}\nSELECT 1;\n`);
    }
    expect(listMigrations(dir).map((m) => [m.version, m.name])).toEqual([
      [1, '001_first.sql'],
      [2, '002_second.sql'],
      [10, '010_tenth.sql'],
    ]);
  });

  it('orders versions numerically once they pass 999', () => {
    for (const f of ['999_a.sql', '1000_b.sql', '100_c.sql']) writeFileSync(path.join(dir, f), 'SELECT 1;\n');
    expect(listMigrations(dir).map((m) => m.version)).toEqual([100, 999, 1000]);
  });
});

describe('migrate (PGlite in memory)', () => {
  const shipped = listMigrations();
  let db: Database;

  beforeAll(async () => {
    db = await openPgliteDatabase('memory://');
  });
  afterAll(async () => {
    await db?.close();
  });

  const appliedVersions = async (d: Database): Promise<number[]> =>
    (await d.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).map((r) => r.version);

  it('applies every shipped migration on an empty database, then nothing on a second run', async () => {
    expect(shipped.length).toBeGreaterThan(0);
    const first = await migrate(db);
    expect(first).toEqual(shipped.map((m) => m.version));
    expect(await appliedVersions(db)).toEqual(first);
    // The schema is there.
    const tables = (await db.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).map((r) => r.tablename);
    expect(tables).toEqual(expect.arrayContaining(['users', 'follows', 'tweets', 'comments', 'reactions', 'notifications']));

    expect(await migrate(db)).toEqual([]);
    expect(await appliedVersions(db)).toEqual(first);
  });

  describe('with migrations of its own', () => {
    let fresh: Database;
    beforeEach(async () => {
      fresh = await openPgliteDatabase('memory://');
    });
    afterEach(async () => {
      await fresh.close();
    });

    const m = (version: number, sql: string): Migration => ({ version, name: `${String(version).padStart(3, '0')}_test.sql`, sql });
    const set = [
      m(1, 'CREATE TABLE counter (n INT NOT NULL);\nINSERT INTO counter VALUES (0);\n'),
      m(2, 'UPDATE counter SET n = n + 1;\n'),
      m(3, 'UPDATE counter SET n = n + 10;\n'),
    ];

    it('applies each version once when several migrate() calls run at the same time', async () => {
      const runs = await Promise.all([migrate(fresh, set), migrate(fresh, set), migrate(fresh, set), migrate(fresh, set)]);
      expect(runs.flat().sort()).toEqual([1, 2, 3]);
      expect(await fresh.query('SELECT n FROM counter')).toEqual([{ n: 11 }]);
      expect(await appliedVersions(fresh)).toEqual([1, 2, 3]);
    });

    it('applies only the versions added since the last run', async () => {
      expect(await migrate(fresh, set.slice(0, 2))).toEqual([1, 2]);
      expect(await migrate(fresh, set)).toEqual([3]);
      expect(await fresh.query('SELECT n FROM counter')).toEqual([{ n: 11 }]);
    });

    it('rolls a failing migration back entirely and applies it once it is fixed', async () => {
      const broken = m(2, 'CREATE TABLE half (x INT);\nUPDATE counter SET n = n + 1;\nSELECT no_such_function();\n');
      await expect(migrate(fresh, [set[0]!, broken, set[2]!])).rejects.toThrow(/no_such_function/);
      expect(await appliedVersions(fresh)).toEqual([1]);
      expect(await fresh.query("SELECT 1 FROM pg_tables WHERE tablename = 'half'")).toEqual([]);
      expect(await fresh.query('SELECT n FROM counter')).toEqual([{ n: 0 }]);

      expect(await migrate(fresh, set)).toEqual([2, 3]);
      expect(await fresh.query('SELECT n FROM counter')).toEqual([{ n: 11 }]);
    });
  });
});
