import { spawnSync } from 'node:child_process';
import net from 'node:net';
import pg from 'pg';


export const PG_ADMIN_URL = process.env.FLOCK_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.FLOCK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export const HINTS = {
  postgres: 'PostgreSQL ≥ 14 must listen on 127.0.0.1:5432 with trust auth (apt-get install postgresql; bash .ci/run starts it), or set FLOCK_TEST_PG_URL',
  redis: 'Redis 7 must listen on 127.0.0.1:6379 (apt-get install redis-server; bash .ci/run starts it), or set FLOCK_TEST_REDIS_URL',
  chromium: "Debian's chromium must be at /usr/bin/chromium, or set FLOCK_TEST_CHROMIUM (apt-get install chromium; bash .ci/run installs it)",
  ffmpeg: 'ffmpeg ≥ 5 with libx264 must be on PATH (apt-get install ffmpeg; bash .ci/run installs it), or set FLOCK_TEST_FFMPEG',
};

export const FFMPEG = process.env.FLOCK_TEST_FFMPEG ?? 'ffmpeg';

/** Whether ffmpeg runs and has the H.264 encoder the test broadcaster uses. */
export function ffmpegAvailable(): boolean {
  const r = spawnSync(FFMPEG, ['-hide_banner', '-encoders'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 && r.stdout.includes('libx264');
}

function tcpOpen(url: string, fallbackPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname || '127.0.0.1', port: Number(u.port) || fallbackPort });
    s.setTimeout(1000);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

export async function postgresAvailable(): Promise<boolean> {
  if (!(await tcpOpen(PG_ADMIN_URL, 5432))) return false;
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

export const redisAvailable = (): Promise<boolean> => tcpOpen(REDIS_URL, 6379);

/**
 * A suite that needs a service never skips: it fails at once with the install hint, locally as
 * in CI (call this first in the suite's beforeAll).
 */
export function assertService(name: keyof typeof HINTS, available: boolean): void {
  if (!available) throw new Error(`${name} is required for this suite: ${HINTS[name]}`);
}

/** Creates a fresh database for one test run; returns its URL and a function that drops it. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `flock_test_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export const REDIS_SERVER_HINT =
  'redis-server ≥ 7 and redis-cli must be on PATH to start a private Redis Cluster or Sentinel (apt-get install redis-server redis-tools; bash .ci/run installs them)';

/**
 * Whether redis-server ≥ 7 (sharded pub/sub) and redis-cli are installed, for
 * suites that start their own Redis processes (server/test/support/redis-cluster.ts).
 */
export function redisServerBinary(): boolean {
  const server = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  const cli = spawnSync('redis-cli', ['--version'], { encoding: 'utf8' });
  const major = Number(/v=(\d+)\./.exec(server.stdout ?? '')?.[1] ?? 0);
  return server.status === 0 && cli.status === 0 && major >= 7;
}
