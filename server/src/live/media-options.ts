import { FileHlsStore, MemoryHlsStore, parseLadder, S3PublishingStore, type HlsStore, type MediaLog, type MediaServiceOptions } from '@flock/media';
import path from 'node:path';
import type { Config } from '../config.ts';

/** Where HLS files go: memory with DATA_DIR=memory:// (unless HLS_DIR says otherwise), else files; and S3 too with S3_BUCKET. */
export function hlsStore(config: Config, log: MediaLog): HlsStore {
  const local = config.HLS_DIR
    ? new FileHlsStore(config.HLS_DIR)
    : config.DATA_DIR.startsWith('memory://')
      ? new MemoryHlsStore()
      : new FileHlsStore(path.join(config.DATA_DIR, 'hls'));
  if (!config.S3_BUCKET) return local;
  const client = { region: config.S3_REGION, forcePathStyle: config.S3_FORCE_PATH_STYLE, ...(config.S3_ENDPOINT ? { endpoint: config.S3_ENDPOINT } : {}) };
  return new S3PublishingStore(local, client, config.S3_BUCKET, config.S3_PREFIX, log.child({ component: 's3' }));
}

/** MediaService options from the settings; the gateway (in-process) and a standalone media worker share them. */
export function mediaOptions(config: Config, parts: Pick<MediaServiceOptions, 'store' | 'directory' | 'log' | 'onFfmpegRestart'>): MediaServiceOptions {
  return {
    ffmpegPath: config.FFMPEG_PATH ?? 'ffmpeg',
    rtmp: { host: config.HOST, port: config.RTMP_PORT },
    hls: {
      partTarget: config.HLS_PART_MS / 1000,
      segmentTarget: config.HLS_SEGMENT_MS / 1000,
      windowSegments: config.HLS_WINDOW_SEGMENTS,
      ladder: parseLadder(config.HLS_LADDER),
      blockTimeoutMs: config.HLS_BLOCK_TIMEOUT_MS,
    },
    restartBackoff: { initialMs: config.FFMPEG_RESTART_MS, maxMs: config.FFMPEG_RESTART_MAX_MS },
    ...parts,
  };
}
