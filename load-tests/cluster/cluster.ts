import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, startGatewayProcess, type GatewayEnv, type GatewayProcess } from '../bench/gateway-process.ts';
import { startNginx, type NginxProcess } from './nginx-process.ts';
import { createSelfSignedCert } from './self-signed-cert.ts';
import { planServices, type PlannedService } from './topology.ts';

/**
 * The compose topology as local processes: gateways and media (topology.ts) sharing one
 * PostgreSQL database and one Redis, behind Debian's nginx terminating TLS with a self-signed
 * certificate. Everything this run writes lives in one temp directory, removed at stop.
 */

const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface ClusterOptions {
  /** Address every process listens on. @default '127.0.0.1' */
  host?: string;
  /** nginx's TLS port (0: any free port). */
  httpsPort: number;
  /** One gateway per entry (0: any free port). */
  gatewayPorts: readonly number[];
  mediaPort: number;
  rtmpPort: number;
  databaseUrl: string;
  redisUrl: string;
  redisKeyPrefix: string;
  /** Settings for every Flock process on top of the load-test defaults (quiet logs, no rate limits). */
  env?: GatewayEnv;
}

export interface ClusterProcess {
  name: string;
  pid: number;
  /** The process's own address, bypassing nginx. */
  url: string;
}

export interface RunningCluster {
  /** https://host:port through nginx: HTTP API, Socket.IO, /hls/. */
  url: string;
  wsUrl: string;
  /** The self-signed certificate clients may trust (or skip verification). */
  certFile: string;
  /** Whether media/src/main.ts exists and runs. */
  media: boolean;
  processes: readonly ClusterProcess[];
  /** Names of processes that exited on their own (checked by the caller's watch loop). */
  exited(): string[];
  /** nginx first (no new traffic), then every service (SIGTERM drains); idempotent. */
  stop(): Promise<void>;
}

export async function startCluster(o: ClusterOptions): Promise<RunningCluster> {
  const host = o.host ?? '127.0.0.1';
  const runDir = await mkdtemp(path.join(os.tmpdir(), 'flock-cluster-'));
  const planned = planServices({
    gatewayPorts: o.gatewayPorts,
    mediaPort: o.mediaPort,
    rtmpPort: o.rtmpPort,
    mediaPresent: existsSync(path.join(REPO_ROOT, 'media', 'src', 'main.ts')),
    mediaDataDir: path.join(runDir, 'media'),
  });
  const started: { spec: PlannedService; proc: GatewayProcess }[] = [];
  let nginx: NginxProcess | null = null;

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await nginx?.stop();
      await Promise.all(started.map(({ proc }) => proc.stop()));
      await rm(runDir, { recursive: true, force: true });
    })());

  try {
    const shared: GatewayEnv = {
      HOST: host,
      DATABASE_URL: o.databaseUrl,
      REDIS_URL: o.redisUrl,
      REDIS_KEY_PREFIX: o.redisKeyPrefix,
      // nginx appends the client's address to X-Forwarded-For; rate limits count that address.
      TRUST_PROXY: 'true',
      ...o.env,
    };
    const results = await Promise.allSettled(
      planned.map(async (spec) => {
        const port = spec.port === 0 ? await freePort(host) : spec.port;
        const proc = await startGatewayProcess({
          entry: spec.entry,
          readyPath: spec.readyPath,
          env: { ...shared, ...spec.env, PORT: String(port) },
        });
        started.push({ spec, proc });
        return proc;
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    const ordered = planned.map((spec) => started.find((s) => s.spec === spec)!);
    const upstream = (p: GatewayProcess) => ({ host, port: p.port });
    const tls = await createSelfSignedCert(runDir);
    const httpsPort = o.httpsPort === 0 ? await freePort(host) : o.httpsPort;
    const mediaProc = ordered.find((s) => s.spec.role === 'media')?.proc;
    nginx = await startNginx({
      runDir,
      sharedDir: path.join(REPO_ROOT, 'deploy', 'nginx'),
      httpsPort,
      listenHost: host,
      ...tls,
      gateways: ordered.filter((s) => s.spec.role === 'gateway').map((s) => upstream(s.proc)),
      media: mediaProc ? upstream(mediaProc) : null,
    });
    const lb = nginx;
    const url = `https://${host}:${httpsPort}`;
    return {
      url,
      wsUrl: `wss://${host}:${httpsPort}`,
      certFile: tls.certFile,
      media: mediaProc !== undefined,
      processes: [
        { name: 'nginx', pid: lb.pid, url },
        ...ordered.map(({ spec, proc }) => ({ name: spec.name, pid: proc.pid, url: proc.url })),
      ],
      exited: () => [...(lb.running() ? [] : ['nginx']), ...ordered.filter(({ proc }) => proc.exit() !== null).map(({ spec }) => spec.name)],
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
