import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { MediaLog } from '../log.ts';
import { classifyStderrLine, type FfmpegOutput } from './ffmpeg-args.ts';

export interface SupervisorOptions {
  ffmpegPath: string;
  /** The command of each run, built afresh at every (re)start. */
  command: () => { args: string[]; outputs: FfmpegOutput[] };
  log: MediaLog;
  /** Rewrites a stderr line before it is logged (ffmpeg prints its input URL, which may hold a secret). */
  redact?: (line: string) => string;
  /** Pause before restart n is min(initialMs · 2^(n-1), maxMs). */
  backoff: { initialMs: number; maxMs: number };
  /** A run that lived this long resets the backoff. */
  stableMs: number;
  /** A run started: its outputs by rendition. */
  onRun: (outputs: Map<string, Readable>, pid: number) => void;
  /** A run ended (crash or stop); `restarting` says whether another follows. */
  onExit: (info: { code: number | null; signal: NodeJS.Signals | null; restarting: boolean }) => void | Promise<void>;
}

/**
 * What ffmpeg says at error level when a stream ends normally: its RTMP input closes
 * (`rtmp://…: Input/output error`, `End of file`, `Connection reset by peer`) or, once stopped,
 * a pipe it writes to is gone (`Broken pipe`, also in `Error writing trailer of pipe:1: …`).
 */
const EXPECTED_END = /: (Input\/output error|End of file|Connection reset by peer|Broken pipe)$/;

/** SIGTERM lets ffmpeg finish its last fragment; a child still alive after this is killed. */
const STOP_GRACE_MS = 3000;

/**
 * One supervised ffmpeg (after mediamtx's externalcmd): started, restarted with exponential
 * backoff when it exits on its own, stopped on request. Every output is a pipe to this process,
 * so ffmpeg cannot outlive it: when the gateway dies, ffmpeg's next write fails (EPIPE/SIGPIPE)
 * and it exits. Its stderr becomes structured log lines.
 */
export class FfmpegSupervisor {
  private child: ChildProcess | null = null;
  private stopped = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | null = null;
  private exited: Promise<void> = Promise.resolve();
  restarts = 0;

  constructor(private readonly o: SupervisorOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.stopped || this.child) return;
    const { args, outputs } = this.o.command();
    const fds = Math.max(2, ...outputs.map((x) => x.fd));
    const stdio: ('ignore' | 'pipe')[] = Array.from({ length: fds + 1 }, (_, i) => (i === 0 ? 'ignore' : 'pipe'));
    const child = spawn(this.o.ffmpegPath, args, { stdio });
    this.child = child;
    const startedAt = Date.now();
    let resolveExit!: () => void;
    this.exited = new Promise((r) => (resolveExit = r));
    child.once('error', (err) => this.o.log.error({ err: err.message, ffmpeg: this.o.ffmpegPath }, 'ffmpeg could not start'));
    this.pipeStderr(child.stdio[2] as Readable);
    const streams = new Map<string, Readable>();
    for (const out of outputs) streams.set(out.rendition, child.stdio[out.fd] as Readable);
    if (child.pid !== undefined) {
      this.o.log.info({ ffmpegPid: child.pid, run: this.restarts }, 'ffmpeg started');
      this.o.onRun(streams, child.pid);
    }
    child.once('close', (code, signal) => {
      this.child = null;
      const restarting = !this.stopped;
      if (Date.now() - startedAt >= this.o.stableMs) this.attempt = 0;
      (restarting ? this.o.log.warn : this.o.log.info).call(this.o.log, { code, signal, restarting }, 'ffmpeg exited');
      Promise.resolve(this.o.onExit({ code, signal, restarting }))
        .catch((err: unknown) => this.o.log.error({ err: (err as Error).message }, 'ffmpeg exit handler failed'))
        .finally(() => {
          resolveExit();
          if (restarting) this.scheduleRestart();
        });
    });
  }

  private scheduleRestart(): void {
    if (this.stopped) return;
    this.attempt++;
    const delay = Math.min(this.o.backoff.initialMs * 2 ** (this.attempt - 1), this.o.backoff.maxMs);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.restarts++;
      this.start();
    }, delay);
  }

  private pipeStderr(stderr: Readable): void {
    let buf = '';
    let endSeen = false;
    stderr.setEncoding('utf8');
    stderr.on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.search(/[\r\n]/)) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (!line) continue;
        const { level, message } = classifyStderrLine(this.o.redact ? this.o.redact(line) : line);
        // Once a stop was asked for (the broadcaster left, or the stream is being deleted), ffmpeg
        // reporting its input or output closing is the expected end, not a failure. Matched before
        // redaction, which may rewrite the URL in front of the reason; only error lines after a stop.
        if (level === 'error' && this.stopped && (EXPECTED_END.test(classifyStderrLine(line).message) || (endSeen && message === 'Conversion failed!'))) {
          endSeen = true;
          this.o.log.info({ ffmpeg: message, expected: true }, 'ffmpeg says');
          continue;
        }
        this.o.log[level]({ ffmpeg: message }, 'ffmpeg says');
      }
    });
  }

  /**
   * No more restarts. The running child may first finish on its own for `settleMs` (its input
   * ended: it flushes its last fragments), then gets SIGTERM, then SIGKILL after a grace.
   */
  async stop(settleMs = 0): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const child = this.child;
    if (!child) return this.exited;
    if (settleMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.exited, new Promise((r) => (timer = setTimeout(r, settleMs)))]);
      clearTimeout(timer);
      if (!this.child) return this.exited;
    }
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(kill);
  }
}
