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
  /** Settings of this process on top of the cluster's shared ones. */
  env: GatewayEnv;
  port: number;
}

export interface TopologyOptions {
  /** One gateway per port. */
  gatewayPorts: readonly number[];
  mediaPort: number;
  rtmpPort: number;
  /** Whether the media service exists on this checkout (media/src/main.ts). */
  mediaPresent: boolean;
  /** Scratch directory of the media service (HLS files). */
  mediaDataDir: string;
  /** nginx's public URL (https://host:port), for the playback URLs the gateways hand out. */
  publicUrl: string;
  host: string;
}

/**
 * Settings the media service's branch adds to the gateway's schema (issue 6): with a separate
 * media worker, gateways run no ingest of their own (MEDIA_SERVICE=remote) and name the worker's
 * public URLs. Plain strings: a gateway whose schema lacks them ignores them.
 */
export type MediaLinkEnv = Record<'MEDIA_SERVICE' | 'HLS_PUBLIC_URL' | 'RTMP_PUBLIC_URL', string>;

export interface Topology {
  services: ServiceSpec[];
  /** Extra settings for every gateway (empty without a media worker). */
  gatewayExtraEnv: Partial<MediaLinkEnv>;
}

export function planServices(o: TopologyOptions): Topology {
  const gateways = o.gatewayPorts.map(
    (port, i): ServiceSpec => ({
      name: `gateway-${i + 1}`,
      role: 'gateway',
      entry: 'server/src/main.ts',
      readyPath: '/readyz',
      // Distinct node ids keep snowflake ids unique across the cluster (and tell which node made one).
      env: { NODE_ID: String(i + 1) },
      port,
    }),
  );
  if (!o.mediaPresent) return { services: gateways, gatewayExtraEnv: {} };
  const media: ServiceSpec = {
    name: 'media',
    role: 'media',
    entry: 'media/src/main.ts',
    readyPath: '/healthz',
    env: { NODE_ID: String(o.gatewayPorts.length + 1), RTMP_PORT: String(o.rtmpPort), DATA_DIR: o.mediaDataDir },
    port: o.mediaPort,
  };
  return {
    services: [...gateways, media],
    gatewayExtraEnv: { MEDIA_SERVICE: 'remote', HLS_PUBLIC_URL: `${o.publicUrl}/hls`, RTMP_PUBLIC_URL: `rtmp://${o.host}:${o.rtmpPort}/live` },
  };
}
