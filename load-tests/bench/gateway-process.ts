import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import { configSchema } from '../../server/src/config.ts';
import { registerCleanup } from './cleanup.ts';

/**
 * One Flock gateway as a child process (`node --import tsx server/src/main.ts`),
 * so the load generator and the server never share an event loop. The child is
 * configured only by environment variables, like a real deployment.
 */

/** A gateway setting name, as server/src/config.ts knows it (typos fail to compile). */
export type GatewaySetting = keyof typeof configSchema.shape;
export type GatewayEnv = Partial<Record<GatewaySetting, string>>;

const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
const MAIN = path.join(REPO_ROOT, 'server', 'src', 'main.ts');
const UNLIMITED = '1000000000/1h';

/** Quiet logs, cheap password hashing, tokens that outlive any run and rate limits no benchmark reaches. */
export const BENCH_GATEWAY_DEFAULTS: Readonly<GatewayEnv> = Object.freeze({
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  PASSWORD_SCRYPT_COST: '1024',
  ACCESS_TOKEN_TTL_SECONDS: String(24 * 3600),
  RATE_TWEETS_PER_USER: UNLIMITED,
  RATE_REGISTER_PER_IP: UNLIMITED,
  RATE_LOGIN_PER_IP: UNLIMITED,
  RATE_LOGIN_PER_ACCOUNT: UNLIMITED,
});

export interface GatewayProcessOptions {
  /** Settings on top of BENCH_GATEWAY_DEFAULTS. Without PORT, a free port is picked. */
  env?: GatewayEnv;
  /** How long to wait for `GET /readyz` to answer 200. @default 60_000 */
  readyTimeoutMs?: number;
  /** Grace between SIGTERM and SIGKILL when stopping. @default 15_000 */
  stopTimeoutMs?: number;
  /** Entry point, relative to the repository root (another service on the same settings, e.g. media). @default 'server/src/main.ts' */
  entry?: string;
  /** Path polled until it answers 200. @default '/readyz' */
  readyPath?: string;
}

/** A line the gateway wrote at warn level or above, or any output that is not a pino JSON line (a crash trace). */
export interface GatewayLogLine {
  /** pino level (40 warn, 50 error, 60 fatal); null for non-JSON output. */
  level: number | null;
  text: string;
}

export interface GatewayExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the child ignored SIGTERM past the grace period and was SIGKILLed. */
  killed: boolean;
}

export interface GatewayProcess {
  readonly pid: number;
  readonly port: number;
  /** Base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** Null while the child runs. */
  exit(): GatewayExit | null;
  /** Warnings, errors and non-JSON output so far (the newest MAX_PROBLEM_LINES). */
  problems(): readonly GatewayLogLine[];
  /** SIGTERM (the gateway drains), then SIGKILL after stopTimeoutMs. Idempotent. */
  stop(): Promise<GatewayExit>;
}

const MAX_PROBLEM_LINES = 200;

/** Asks the OS for a free TCP port by binding port 0. Another process could take it before the gateway binds; the window is milliseconds. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port assigned'))));
    });
  });
}

/** The child's environment: the harness's own, minus every Flock setting (so a DATABASE_URL in the shell cannot leak in), plus ours. */
function childEnv(settings: GatewayEnv, settingNames: readonly string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of settingNames) delete env[name];
  return { ...env, ...settings };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Last resort when the harness itself dies without cleaning up: no gateway outlives it. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Starts a gateway child and resolves once `GET /readyz` answers 200; rejects (after killing the child) otherwise. */
export async function startGatewayProcess(options: GatewayProcessOptions = {}): Promise<GatewayProcess> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 15_000;
  const settings: GatewayEnv = { ...BENCH_GATEWAY_DEFAULTS, ...options.env };
  settings.PORT ??= String(await freePort(settings.HOST));
  const port = Number(settings.PORT);
  const host = settings.HOST === '0.0.0.0' || settings.HOST === undefined ? '127.0.0.1' : settings.HOST;
  const url = `http://${host}:${port}`;

  const entry = options.entry === undefined ? MAIN : path.join(REPO_ROOT, options.entry);
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: REPO_ROOT,
    env: childEnv(settings, Object.keys(configSchema.shape)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);

  const problems: GatewayLogLine[] = [];
  const collect = (stream: Readable) =>
    readline.createInterface({ input: stream, crlfDelay: Infinity }).on('line', (text) => {
      if (text.trim() === '') return;
      let level: number | null = null;
      try {
        const parsed: unknown = JSON.parse(text);
        if (parsed && typeof parsed === 'object' && 'level' in parsed && typeof parsed.level === 'number') level = parsed.level;
      } catch {
        // not a pino line: keep it
      }
      if (level !== null && level < 40) return;
      problems.push({ level, text });
      if (problems.length > MAX_PROBLEM_LINES) problems.shift();
    });
  collect(child.stdout);
  collect(child.stderr);

  let exited: GatewayExit | null = null;
  const exitPromise = new Promise<GatewayExit>((resolve) => {
    child.once('error', (err) => {
      live.delete(child);
      problems.push({ level: null, text: `spawn failed: ${err.message}` });
      exited ??= { code: null, signal: null, killed: false };
      resolve(exited);
    });
    child.once('exit', (code, signal) => {
      live.delete(child);
      exited ??= { code, signal, killed: false };
      resolve(exited);
    });
  });

  let stopping: Promise<GatewayExit> | null = null;
  const stop = (): Promise<GatewayExit> =>
    (stopping ??= (async () => {
      if (exited) return exited;
      child.kill('SIGTERM');
      const timer = sleep(stopTimeoutMs).then(() => null);
      const result = await Promise.race([exitPromise, timer]);
      if (result) return result;
      child.kill('SIGKILL');
      const after = await exitPromise;
      return { ...after, killed: true };
    })().finally(unregister));
  const unregister = registerCleanup(async () => void (await stop()));

  const gateway: GatewayProcess = {
    pid: child.pid ?? -1,
    port,
    url,
    exit: () => exited,
    problems: () => problems,
    stop,
  };

  try {
    await waitReady(gateway, options.readyPath ?? '/readyz', readyTimeoutMs);
    return gateway;
  } catch (err) {
    await stop();
    const tail = problems.slice(-20).map((p) => `    ${p.text}`).join('\n');
    throw new Error(`${(err as Error).message}${tail ? `\n  gateway output:\n${tail}` : ''}`, { cause: err });
  }
}

async function waitReady(gateway: GatewayProcess, readyPath: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const exit = gateway.exit();
    if (exit) throw new Error(`gateway exited before it was ready (code ${exit.code}, signal ${exit.signal})`);
    try {
      const res = await fetch(`${gateway.url}${readyPath}`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
      last = `HTTP ${res.status}: ${await res.text()}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`gateway at ${gateway.url} not ready after ${timeoutMs} ms (${last})`);
}
