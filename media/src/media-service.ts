import { spawn } from 'node:child_process';
import type { StreamDirectory } from './control/stream-directory.ts';
import type { HlsStore } from './hls/hls-store.ts';
import { HlsOrigin } from './hls/origin.ts';
import { StreamPackager } from './hls/stream-packager.ts';
import type { IngestSource } from './ingest/ingest-source.ts';
import { RtmpIngest } from './ingest/rtmp-ingest.ts';
import { LiveSession } from './live-session.ts';
import type { MediaLog } from './log.ts';
import type { LadderRung, SourceCodecs } from './transcode/ffmpeg-args.ts';

export interface MediaServiceOptions {
  ffmpegPath: string;
  rtmp: { host: string; port: number };
  hls: {
    partTarget: number;
    segmentTarget: number;
    windowSegments: number;
    ladder: LadderRung[];
    blockTimeoutMs: number;
  };
  restartBackoff: { initialMs: number; maxMs: number };
  store: HlsStore;
  directory: StreamDirectory;
  log: MediaLog;
  /** Called on every ffmpeg restart (the gateway counts them in /metrics). */
  onFfmpegRestart?: (streamId: string) => void;
}

export const FFMPEG_HINT = 'install ffmpeg ≥ 5 (apt-get install ffmpeg) or point FFMPEG_PATH at it';

/** Whether an ffmpeg binary answers `-version` at this path (without blocking the event loop). */
export function ffmpegAvailable(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(path, ['-version'], { stdio: 'ignore', timeout: 10_000 });
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0));
  });
}

/**
 * Live video: ingest (RTMP here; WebRTC hands its sources to `accept`) → supervised ffmpeg →
 * LL-HLS packager → store, and the origin that serves it. Runs inside the gateway in the
 * embedded default, or alone (media/src/main.ts).
 */
export class MediaService {
  private readonly sessions = new Map<string, { session: LiveSession; packager: StreamPackager; source: IngestSource }>();
  readonly rtmp: RtmpIngest;
  readonly origin: HlsOrigin;
  private closed = false;
  private ffmpegOk = true;

  constructor(private readonly o: MediaServiceOptions) {
    this.rtmp = new RtmpIngest({
      ...o.rtmp,
      log: o.log.child({ component: 'rtmp' }),
      // Without ffmpeg nothing could be packaged: refuse publishes rather than accept a dead stream.
      authorize: async (key) => (this.ffmpegOk ? o.directory.authorize(key) : null),
      onPublish: ({ source, codecs }) => {
        if (!this.accept(source, codecs)) source.disconnect();
      },
    });
    this.origin = new HlsOrigin(o.store, (id) => this.sessions.get(id)?.packager, o.hls.blockTimeoutMs);
  }

  /** Starts the RTMP listener; resolves its port. */
  async start(): Promise<number> {
    this.ffmpegOk = await ffmpegAvailable(this.o.ffmpegPath);
    if (!this.ffmpegOk) {
      this.o.log.error({ ffmpeg: this.o.ffmpegPath }, `ffmpeg is missing: every publish will be refused; ${FFMPEG_HINT}`);
    }
    return this.rtmp.listen();
  }

  /**
   * Packages a live source into HLS under `<streamId>/` until the source ends or `stop` is called.
   * false: refused (shutting down, ffmpeg missing, or the stream already has a live source); the
   * caller should drop that source.
   */
  accept(source: IngestSource, codecs: SourceCodecs = { video: null, audio: null }): boolean {
    const { streamId } = source;
    if (this.closed || !this.ffmpegOk || this.sessions.has(streamId)) return false;
    const log = this.o.log.child({ streamId, ingest: source.kind });
    const ladder = this.o.hls.ladder;
    const packager = new StreamPackager(streamId, ['source', ...ladder.map((r) => r.name)], this.o.store, {
      partTarget: this.o.hls.partTarget,
      segmentTarget: this.o.hls.segmentTarget,
      windowSegments: this.o.hls.windowSegments,
      onError: (err) => log.error({ err: err.message }, 'hls packaging failed'),
    });
    // WebRTC brings VP8/Opus, which HLS players do not take as they are.
    const effective = source.kind === 'webrtc' ? { video: 'vp8', audio: 'opus' } : codecs;
    const session = new LiveSession({
      source,
      plan: { codecs: effective, ladder, partTarget: this.o.hls.partTarget, keyframeInterval: Math.min(1, this.o.hls.segmentTarget) },
      packager,
      directory: this.o.directory,
      ffmpegPath: this.o.ffmpegPath,
      backoff: this.o.restartBackoff,
      log,
      onRestart: () => this.o.onFfmpegRestart?.(streamId),
    });
    this.sessions.set(streamId, { session, packager, source });
    session.start();
    void source.ended.then(async () => {
      await session.stop(2000);
      // Not a newer broadcast of the same stream that started meanwhile.
      if (this.sessions.get(streamId)?.session === session) this.sessions.delete(streamId);
    });
    return true;
  }

  /** The live session of a stream on this process (tests and the benchmark read its ffmpeg pid). */
  session(streamId: string): LiveSession | undefined {
    return this.sessions.get(streamId)?.session;
  }

  /** Ends a live stream: the broadcaster is cut off, ffmpeg stopped, the playlists closed. */
  async stop(streamId: string): Promise<void> {
    const s = this.sessions.get(streamId);
    s?.source.disconnect();
    if (s) {
      await s.session.stop();
      this.sessions.delete(streamId);
    }
  }

  /** Deletes a stream's HLS output. */
  async remove(streamId: string): Promise<void> {
    await this.o.store.deletePrefix(`${streamId}/`);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.rtmp.close();
    await Promise.all([...this.sessions.keys()].map((id) => this.stop(id)));
  }
}
