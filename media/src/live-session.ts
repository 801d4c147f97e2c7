import type { StreamDirectory } from './control/stream-directory.ts';
import type { StreamPackager } from './hls/stream-packager.ts';
import type { IngestSource } from './ingest/ingest-source.ts';
import type { MediaLog } from './log.ts';
import { buildFfmpegArgs, type FfmpegPlan } from './transcode/ffmpeg-args.ts';
import { FfmpegSupervisor } from './transcode/ffmpeg-supervisor.ts';

export interface LiveSessionOptions {
  source: IngestSource;
  plan: Omit<FfmpegPlan, 'input'>;
  packager: StreamPackager;
  directory: StreamDirectory;
  ffmpegPath: string;
  backoff: { initialMs: number; maxMs: number };
  log: MediaLog;
  onRestart: () => void;
}

/**
 * One broadcast from publish to end: the supervised ffmpeg feeds the packager; on `stop` (the
 * broadcaster went, or the stream was deleted) ffmpeg is stopped, the playlists get EXT-X-ENDLIST and
 * the directory hears that the stream ended.
 */
export class LiveSession {
  private readonly supervisor: FfmpegSupervisor;
  private ending: Promise<void> | null = null;

  constructor(private readonly o: LiveSessionOptions) {
    const { source, packager, log } = o;
    this.supervisor = new FfmpegSupervisor({
      ffmpegPath: o.ffmpegPath,
      command: () => buildFfmpegArgs({ ...o.plan, input: source.inputArgs() }),
      log,
      // ffmpeg names its input in errors; an RTMP input URL holds the stream key.
      redact: (line) => line.replace(/(rtmps?:\/\/[^\s/]+\/[^\s/]+\/)\S+/g, '$1<stream key>'),
      backoff: o.backoff,
      stableMs: 10_000,
      onRun: (outputs) => {
        packager.startRun();
        for (const [name, stream] of outputs) {
          const rendition = packager.renditions.get(name);
          stream.on('data', (chunk: Buffer) => rendition?.push(chunk));
        }
      },
      onExit: async ({ restarting }) => {
        await packager.endRun();
        if (restarting) o.onRestart();
      },
    });
  }

  get ffmpegPid(): number | undefined {
    return this.supervisor.pid;
  }

  get restarts(): number {
    return this.supervisor.restarts;
  }

  start(): void {
    this.supervisor.start();
    this.o.directory.wentLive(this.o.source.streamId).catch((err: unknown) => this.o.log.error({ err: (err as Error).message }, 'could not report the stream live'));
  }

  /**
   * Idempotent; resolves when ffmpeg is gone and the playlists are closed. After the broadcaster
   * left, `settleMs` lets ffmpeg see its input end and write the tail before it is signalled.
   */
  stop(settleMs = 0): Promise<void> {
    return (this.ending ??= (async () => {
      await this.supervisor.stop(settleMs);
      await this.o.packager.finish();
      await this.o.directory.ended(this.o.source.streamId).catch((err: unknown) => this.o.log.error({ err: (err as Error).message }, 'could not report the stream ended'));
      this.o.log.info({ restarts: this.supervisor.restarts }, 'stream ended');
    })());
  }
}
