import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import readline from 'node:readline';
import { stoppableChild } from '../bench/cleanup.ts';
import { NGINX_TEMP_DIRS, renderNginxConfig, type NginxConfigOptions } from './nginx-config.ts';

export const NGINX_HINT = "nginx must be on PATH (apt-get install nginx; bash .ci/run installs it); or set NGINX_BIN";

export interface NginxProcess {
  readonly pid: number;
  /** nginx's error log lines so far (startup problems, upstream errors). */
  errors(): readonly string[];
  running(): boolean;
  /** SIGTERM (fast shutdown: workers exit with the master), SIGKILL after the grace. */
  stop(): Promise<void>;
}

/** Debian installs nginx in /usr/sbin, which is not on a normal user's PATH. */
export function nginxBinary(): string | null {
  const candidates = [process.env.NGINX_BIN, 'nginx', '/usr/sbin/nginx'].filter((c): c is string => Boolean(c));
  for (const bin of candidates) {
    if (spawnSync(bin, ['-v'], { stdio: 'ignore' }).status === 0) return bin;
  }
  return null;
}

/** Writes the configuration into runDir, checks it (`nginx -t`), starts nginx in the foreground and waits until it answers over TLS. */
export async function startNginx(config: NginxConfigOptions, timeoutMs = 15_000): Promise<NginxProcess> {
  const bin = nginxBinary();
  if (!bin) throw new Error(NGINX_HINT);
  // Workers run as an unprivileged user when the cluster runs as root: they must reach the run
  // directory and write the temp directories.
  await chmod(config.runDir, 0o755);
  for (const dir of NGINX_TEMP_DIRS) {
    await mkdir(path.join(config.runDir, dir), { recursive: true });
    await chmod(path.join(config.runDir, dir), 0o777);
  }
  await chmod(path.join(config.runDir, 'tmp'), 0o755);
  const confFile = path.join(config.runDir, 'nginx.conf');
  await writeFile(confFile, renderNginxConfig(config));
  const args = ['-p', config.runDir, '-e', path.join(config.runDir, 'error.log'), '-c', confFile];
  const check = spawnSync(bin, [...args, '-t'], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx rejected ${confFile}:\n${check.stderr}`);

  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const errors: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on('line', (line) => errors.push(line));
  }
  const { stop, running } = stoppableChild(child, 5_000);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!running()) throw new Error(`nginx exited at start:\n${errors.join('\n')}`);
    if (await answers(config.listenHost, config.httpsPort)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`nginx did not answer on https://${config.listenHost}:${config.httpsPort} within ${timeoutMs} ms:\n${errors.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { pid: child.pid ?? -1, errors: () => errors, running, stop };
}

/** Whether nginx's own liveness location answers 200 over TLS (any certificate: it is ours). */
function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get({ host, port, path: '/nginx-health', rejectUnauthorized: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('error', () => resolve(false));
    req.once('timeout', () => req.destroy());
  });
}
