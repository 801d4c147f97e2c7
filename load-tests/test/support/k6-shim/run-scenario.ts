import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Plan } from './run.ts';

/** Runs a k6 scenario under the shim (run.ts) in a child process; resolves with its verdicts. */

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..', '..');

export type { Plan };

export interface Result {
  verdicts: Record<string, boolean>;
  values: Record<string, Record<string, number>>;
  failedChecks: string[];
  counterTags: Record<string, Record<string, string>[]>;
  files: string[];
  stdout: string;
}

export function runScenario(plan: Plan): Promise<Result> {
  const child = spawn(
    process.execPath,
    ['--import', './load-tests/test/support/k6-shim/register.mjs', '--import', 'tsx', 'load-tests/test/support/k6-shim/run.ts', JSON.stringify(plan)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`${plan.script} failed (exit ${code}):\n${err}${out}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as Result);
    });
  });
}

