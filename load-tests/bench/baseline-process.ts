import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { stoppableChild } from './cleanup.ts';
import { freePort } from './gateway-process.ts';

/** One node of the fan-out baseline (baseline-server.ts) as a child process, like the gateways. */

const SCRIPT = path.join(import.meta.dirname, 'baseline-server.ts');

export interface BaselineProcess {
  readonly pid: number;
  readonly url: string;
  /** Anything the node wrote to stdout or stderr (the newest 100 lines). */
  problems(): readonly string[];
  /** Null while it runs. */
  exitCode(): number | null;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startBaselineProcess(redisUrl: string, nodeId: number): Promise<BaselineProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
    env: { ...process.env, PORT: String(port), REDIS_URL: redisUrl, NODE_ID: String(nodeId) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const problems: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      problems.push(line);
      if (problems.length > 100) problems.shift();
    });
  }
  const { stop, running } = stoppableChild(child, 10_000);

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (!running()) throw new Error(`baseline node exited before it was ready: ${problems.slice(-10).join('\n')}`);
    const ok = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`baseline node at ${url} not ready after 30 s: ${problems.slice(-10).join('\n')}`);
    }
    await sleep(100);
  }
  return { pid: child.pid ?? -1, url, problems: () => problems, exitCode: () => child.exitCode, stop };
}
