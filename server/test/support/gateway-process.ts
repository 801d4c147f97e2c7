import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

// Every child ever started, so none outlives the test process even when a hook times out
// before the test could record it.
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

export interface GatewayProcess {
  child: ChildProcess;
  port: number;
  url: string;
  logs: string[];
  /** Resolves with the exit code once the process has exited. */
  exited(): Promise<number | null>;
}

/**
 * Runs a gateway exactly as `npm start` does (node --import tsx server/src/main.ts),
 * configured only by environment, and resolves once it logs "listening".
 * Rejects with the exit code and the logs if it exits first.
 */
export async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const p = await startLoggingProcess('server/src/main.ts', { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', PASSWORD_SCRYPT_COST: '1024', RTMP_PORT: '0', ...env }, (j) =>
    j.msg === 'flock gateway listening' && typeof j.port === 'number' ? j.port : undefined,
  );
  return { child: p.child, port: p.ready, url: `http://127.0.0.1:${p.ready}`, logs: p.logs, exited: p.exited };
}

/**
 * Runs a TypeScript entry point of the repository (node --import tsx <entry>) with only the given
 * environment (and PATH), collecting its JSON log lines; resolves with what `ready` extracts from
 * the first line it accepts. Rejects with the exit code and the logs if the process exits first.
 */
export function startLoggingProcess<T>(
  entry: string,
  env: Record<string, string>,
  ready: (line: Record<string, unknown>) => T | undefined,
): Promise<{ child: ChildProcess; ready: T; logs: string[]; exited(): Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const logs: string[] = [];
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        logs.push(line);
        try {
          const value = ready(JSON.parse(line) as Record<string, unknown>);
          if (value !== undefined) resolve({ child, ready: value, logs, exited: () => exit });
        } catch {
          /* not JSON */
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exit.then((code) => reject(Object.assign(new Error(`${entry} exited with ${code}:\n${logs.join('\n')}`), { code, logs })));
  });
}
