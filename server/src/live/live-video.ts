import { Cluster } from 'ioredis';
import { consumeReports, MediaService, RedisMediaControl, RTMP_APP } from '@flock/media';
import type { DomainDeps } from '../domain/deps.ts';
import { StreamService, type ViewerCounter } from '../domain/streams.ts';
import type { Route } from '../http/route.ts';
import type { Metrics } from '../metrics.ts';
import type { RedisClients } from '../redis/open-redis.ts';
import { hlsRoutes } from '../routes/hls-routes.ts';
import { streamRoutes, type MediaControl } from '../routes/stream-routes.ts';
import { hlsStore, mediaOptions } from './media-options.ts';

export interface LiveVideo {
  streams: StreamService;
  routes: Route[];
  /** The in-process media service (null when media runs elsewhere or is off). */
  media: MediaService | null;
  /** Starts the RTMP listener; resolves its port (null when not in-process or the port is taken). */
  start(): Promise<number | null>;
  close(): Promise<void>;
}


/**
 * Live video for the gateway (DESIGN §7): stream records and routes always; ingest, ffmpeg and
 * the HLS origin in-process with MEDIA_SERVICE=inprocess (the embedded default), or standalone
 * media workers reached over Redis with MEDIA_SERVICE=remote. With neither (off) a DELETE only
 * removes the record: there is no ingest to stop.
 */
export function liveVideo(
  deps: DomainDeps,
  metrics: Metrics,
  opts: { gatewayUrl: () => string; viewers: ViewerCounter; redis: RedisClients | null; webrtc?: () => boolean },
): LiveVideo {
  const { config, log } = deps;
  let rtmpPort = config.RTMP_PORT;
  const streams = new StreamService(
    deps,
    {
      hls: (id) => `${config.HLS_PUBLIC_URL ?? `${opts.gatewayUrl()}/hls`}/${id}/master.m3u8`,
      rtmp: () => {
        if (config.RTMP_PUBLIC_URL) return config.RTMP_PUBLIC_URL;
        const host = new URL(opts.gatewayUrl()).hostname;
        return `rtmp://${host}:${rtmpPort}/${RTMP_APP}`;
      },
      // WebRTC signaling runs over the Flock socket of this gateway (`webrtc:*` events).
      webrtc: () => (opts.webrtc?.() ? opts.gatewayUrl() : undefined),
    },
    opts.viewers,
  );
  const media =
    config.MEDIA_SERVICE === 'inprocess'
      ? new MediaService(
          mediaOptions(config, {
            store: hlsStore(config, log),
            directory: {
              authorize: (key) => streams.authorize(key),
              wentLive: (id) => streams.markLive(id),
              ended: (id) => streams.markEnded(id),
            },
            log: log.child({ component: 'media' }),
            onFfmpegRestart: () => metrics.ffmpegRestarts.inc(),
          }),
        )
      : null;
  // Remote media workers: commands go out on a channel, their live/ended reports come back
  // through a queue that this gateway pops from (on a connection of its own: BRPOP blocks).
  const remote = config.MEDIA_SERVICE === 'remote' && opts.redis ? opts.redis : null;
  const control: MediaControl = media ?? (remote ? new RedisMediaControl(remote.publish, config.REDIS_KEY_PREFIX) : { stop: async () => {}, remove: async () => {} });
  const c = remote?.commands;
  const reportClient = c ? (c instanceof Cluster ? c.duplicate() : c.duplicate()) : null;
  const reports = reportClient
    ? consumeReports(
        reportClient,
        config.REDIS_KEY_PREFIX,
        (r) => (r.type === 'live' ? streams.markLive(r.streamId) : streams.markEnded(r.streamId)),
        log.child({ component: 'media-link' }),
      )
    : null;
  const routes = [...streamRoutes({ streams, media: control }), ...(media ? hlsRoutes({ origin: media.origin }) : [])];
  return {
    streams,
    routes,
    media,
    async start() {
      if (!media) return null;
      try {
        rtmpPort = await media.start();
        log.info({ rtmpPort }, 'rtmp ingest listening');
        return rtmpPort;
      } catch (err) {
        // Several gateways on one machine (a local cluster) cannot all have port 1935: the others
        // serve everything but RTMP ingest rather than refuse to start.
        log.error({ err: (err as Error).message, rtmpPort: config.RTMP_PORT }, 'RTMP ingest is NOT available: its port could not be bound');
        return null;
      }
    },
    close: async () => {
      await media?.close();
      await reports?.stop();
    },
  };
}
