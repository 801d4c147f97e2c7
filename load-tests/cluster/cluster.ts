import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, startGatewayProcess, type GatewayEnv, type GatewayProcess } from '../bench/gateway-process.ts';
import { startNginx, type NginxProcess } from './nginx-process.ts';
import { createSelfSignedCert } from './self-signed-cert.ts';
import { planServices, type ServiceSpec } from './topology.ts';

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
  /** RTMP ingest base (append /<streamKey>) when media runs. */
  rtmpUrl: string | null;
  processes: readonly ClusterProcess[];
  /** Names of processes that exited on their own (checked by the caller's watch loop). */
  exited(): string[];
  /** nginx first (no new traffic), then every service (SIGTERM drains); idempotent. */
  stop(): Promise<void>;
}

export async function startCluster(o: ClusterOptions): Promise<RunningCluster> {
  const host = o.host ?? '127.0.0.1';
  const runDir = await mkdtemp(path.join(os.tmpdir(), 'flock-cluster-'));
  const pick = async (port: number) => (port === 0 ? freePort(host) : port);
  // Ports first: the gateways hand out playback URLs through nginx and the RTMP URL.
  const httpsPort = await pick(o.httpsPort);
  const url = `https://${host}:${httpsPort}`;
  const plan = planServices({
    gatewayPorts: await Promise.all(o.gatewayPorts.map(pick)),
    mediaPort: await pick(o.mediaPort),
    rtmpPort: await pick(o.rtmpPort),
    mediaPresent: existsSync(path.join(REPO_ROOT, 'media', 'src', 'main.ts')),
    mediaDataDir: path.join(runDir, 'media'),
    publicUrl: url,
    host,
  });
  const started: { spec: ServiceSpec; proc: GatewayProcess }[] = [];
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
      plan.services.map(async (spec) => {
        const extra = spec.role === 'gateway' ? (plan.gatewayExtraEnv as GatewayEnv) : {};
        const proc = await startGatewayProcess({
          entry: spec.entry,
          readyPath: spec.readyPath,
          env: { ...shared, ...extra, ...spec.env, PORT: String(spec.port) },
        });
        started.push({ spec, proc });
        return proc;
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    const ordered = plan.services.map((spec) => started.find((s) => s.spec === spec)!);
    const upstream = (p: GatewayProcess) => ({ host, port: p.port });
    const tls = await createSelfSignedCert(runDir);
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
    return {
      url,
      wsUrl: `wss://${host}:${httpsPort}`,
      certFile: tls.certFile,
      media: mediaProc !== undefined,
      rtmpUrl: plan.gatewayExtraEnv.RTMP_PUBLIC_URL ?? null,
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
