export { MediaService, ffmpegAvailable, FFMPEG_HINT, type MediaServiceOptions } from './media-service.ts';
export type { StreamDirectory } from './control/stream-directory.ts';
export type { IngestSource } from './ingest/ingest-source.ts';
export { MemoryHlsStore } from './hls/memory-hls-store.ts';
export { FileHlsStore } from './hls/file-hls-store.ts';
export type { HlsStore } from './hls/hls-store.ts';
export { parseLadder, type LadderRung } from './transcode/ffmpeg-args.ts';
export { RTMP_APP } from './ingest/rtmp-ingest.ts';
export { HlsOrigin, type OriginAnswer } from './hls/origin.ts';
