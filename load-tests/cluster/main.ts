import { runCleanups } from '../bench/cleanup.ts';
import { ensureDatabase } from './cluster-database.ts';
import { startCluster } from './cluster.ts';

/**
 * `npm run cluster`: two gateways, media (when present) and nginx with TLS on this machine, for
 * load tests here. Ctrl-C or SIGTERM stops every process it started. Settings (environment):
 *   CLUSTER_HTTPS_PORT     nginx's TLS port                         8443
 *   CLUSTER_GATEWAY_PORTS  one gateway per port                      8081,8082
 *   CLUSTER_MEDIA_PORT     media's HTTP port (/hls/)                8090
 *   CLUSTER_RTMP_PORT      media's RTMP ingest                      1935
 *   CLUSTER_PG_URL         PostgreSQL to create the database on     postgres://postgres@127.0.0.1:5432/postgres
 *   CLUSTER_DATABASE       the cluster's own database               flock_cluster
 *   CLUSTER_FRESH          1: drop and recreate that database first
 *   CLUSTER_REDIS_URL      Redis                                    redis://127.0.0.1:6379
 *   CLUSTER_REDIS_PREFIX   key prefix on that Redis                 flock-cluster:
 *   LOG_LEVEL              the processes' log level                 warn
 * Port 0 picks a free port.
 */

const env = process.env;
const port = (name: string, fallback: number): number => {
  const raw = env[name] ?? String(fallback);
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535) throw new Error(`${name}=${raw}: expected a port number (0: any free port)`);
  return n;
};

async function main(): Promise<void> {
  const gatewayPorts = (env.CLUSTER_GATEWAY_PORTS ?? '8081,8082').split(',').map((p, i) => {
    const n = Number(p.trim());
    if (!/^\d+$/.test(p.trim()) || n > 65535) throw new Error(`CLUSTER_GATEWAY_PORTS entry ${i + 1} (${p}): expected a port number`);
    return n;
  });
  const adminUrl = env.CLUSTER_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const databaseUrl = await ensureDatabase(adminUrl, env.CLUSTER_DATABASE ?? 'flock_cluster', env.CLUSTER_FRESH === '1');

  let signalled = false;
  const cluster = await startCluster({
    httpsPort: port('CLUSTER_HTTPS_PORT', 8443),
    gatewayPorts,
    mediaPort: port('CLUSTER_MEDIA_PORT', 8090),
    rtmpPort: port('CLUSTER_RTMP_PORT', 1935),
    databaseUrl,
    redisUrl: env.CLUSTER_REDIS_URL ?? 'redis://127.0.0.1:6379',
    redisKeyPrefix: env.CLUSTER_REDIS_PREFIX ?? 'flock-cluster:',
    env: { LOG_LEVEL: env.LOG_LEVEL ?? 'warn' },
  });

  const lines = [
    '',
    `Flock cluster ready: ${cluster.url}  (self-signed certificate: ${cluster.certFile})`,
    `  BASE_URL=${cluster.url} WS_URL=${cluster.wsUrl} K6_INSECURE_SKIP_TLS_VERIFY=true`,
    ...cluster.processes.map((p) => `  ${p.name.padEnd(10)} pid ${String(p.pid).padEnd(8)} ${p.url}`),
    cluster.rtmpUrl ? `  RTMP ingest: ${cluster.rtmpUrl}/<streamKey>` : '  media      not started: media/src/main.ts is not on this checkout (/hls/ answers 502)',
    'Ctrl-C stops every process.',
  ];
  process.stdout.write(`${lines.filter((l, i) => l !== '' || i === 0).join('\n')}\n`);

  const shutdown = (why: string, code: number) => {
    if (signalled) return;
    signalled = true;
    process.stdout.write(`${why}: stopping the cluster\n`);
    clearInterval(watch);
    cluster.stop().then(
      () => {
        process.stdout.write('cluster stopped\n');
        process.exit(code);
      },
      (err: unknown) => {
        process.stderr.write(`stop failed: ${(err as Error).message}\n`);
        void runCleanups().finally(() => process.exit(1));
      },
    );
  };
  // A process that dies on its own takes the cluster down: a half cluster would skew a load test.
  const watch = setInterval(() => {
    const gone = cluster.exited();
    if (gone.length > 0) shutdown(`${gone.join(', ')} exited`, 1);
  }, 1000);
  process.once('SIGINT', () => shutdown('SIGINT', 0));
  process.once('SIGTERM', () => shutdown('SIGTERM', 0));
}

main().catch(async (err: unknown) => {
  process.stderr.write(`cluster failed to start: ${(err as Error).message}\n`);
  await runCleanups();
  process.exit(1);
});
