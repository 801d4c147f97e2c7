import { spawn } from 'node:child_process';
import { stoppableChild } from './cleanup.ts';
import { freePort } from './gateway-process.ts';

/**
 * A private redis-server for one benchmark run: a free port on 127.0.0.1,
 * no persistence (`--save "" --appendonly no`), stopped at the end (or on
 * Ctrl-C), so no shared Redis and no leftover keys or processes.
 */

export interface RedisProcess {
  readonly pid: number;
  readonly url: string;
  /** `redis-server --version`, for the report. */
  readonly version: string;
  stop(): Promise<void>;
}

function redisVersion(): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('redis-server', ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', () => resolve('unknown'));
    child.once('exit', () => resolve(/v=(\S+)/.exec(out)?.[1] ?? (out.trim() || 'unknown')));
  });
}

export async function startRedis(): Promise<RedisProcess> {
  const version = await redisVersion();
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { stop } = stoppableChild(child, 5000);

  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server not ready after 10 s: ${out.slice(-500)}`)), 10_000);
    child.once('error', (err) => reject(new Error(`redis-server could not start (apt-get install redis-server): ${err.message}`)));
    child.stdout.on('data', (d: Buffer) => {
      out = (out + d.toString()).slice(-4000);
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
    child.once('exit', (code) => reject(new Error(`redis-server exited with code ${code}: ${out.slice(-500)}`)));
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return { pid: child.pid ?? -1, url: `redis://127.0.0.1:${port}`, version, stop };
}
