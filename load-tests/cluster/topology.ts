import type { GatewayEnv } from '../bench/gateway-process.ts';

/**
 * What `npm run cluster` runs, as data: every Flock process of the compose topology
 * (docker-compose.yml) on this one machine. nginx's upstreams are generated from this list, so a
 * new process is one more entry here.
 */

export type ServiceRole = 'gateway' | 'media';

export interface ServiceSpec {
  /** Printed name, also the log prefix. */
  name: string;
  /** Gateways form nginx's `flock_gateways` upstreams; media serves `/hls/`. */
  role: ServiceRole;
  /** Entry point, relative to the repository root, run with `node --import tsx`. */
  entry: string;
  /** Path polled until it answers 200. */
  readyPath: string;
  /** Settings of this process on top of the cluster's shared ones (PORT is assigned). */
  env: GatewayEnv;
}

export interface TopologyOptions {
  /** One gateway per port (0: any free port). */
  gatewayPorts: readonly number[];
  mediaPort: number;
  rtmpPort: number;
  /** Whether the media service exists on this checkout (media/src/main.ts). */
  mediaPresent: boolean;
  /** Scratch directory of the media service (HLS files). */
  mediaDataDir: string;
}

export interface PlannedService extends ServiceSpec {
  /** 0: pick a free one at start. */
  port: number;
}

export function planServices(o: TopologyOptions): PlannedService[] {
  const gateways = o.gatewayPorts.map(
    (port, i): PlannedService => ({
      name: `gateway-${i + 1}`,
      role: 'gateway',
      entry: 'server/src/main.ts',
      readyPath: '/readyz',
      // Distinct node ids keep snowflake ids unique across the cluster (and tell which node made one).
      env: { NODE_ID: String(i + 1) },
      port,
    }),
  );
  const media: PlannedService[] = o.mediaPresent
    ? [
        {
          name: 'media',
          role: 'media',
          entry: 'media/src/main.ts',
          readyPath: '/healthz',
          env: { NODE_ID: String(o.gatewayPorts.length + 1), RTMP_PORT: String(o.rtmpPort), DATA_DIR: o.mediaDataDir },
          port: o.mediaPort,
        },
      ]
    : [];
  return [...gateways, ...media];
}
