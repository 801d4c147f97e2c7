import { parseLadder, type MediaServiceOptions } from '@flock/media';
import type { Config } from '../config.ts';

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
