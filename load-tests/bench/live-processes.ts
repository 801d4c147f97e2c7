import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import { hostBusySeconds, parseProcStat } from './cpu.ts';
import { stoppableChild } from './cleanup.ts';
import { CLOCK_STRIP_HEIGHT, CLOCK_STRIP_WIDTH, decodeClockStrip, encoderGraph, type EncoderPicture } from './live-clock.ts';

/**
 * The ffmpeg processes of the live benchmark, all separate from the gateway so that their CPU
 * is never counted as the gateway's: the test encoder (a camera and OBS in one), copy pushers
 * (a pre-encoded clip re-sent in real time, for the ramp), and the harness's decoder that reads
 * the clock strip back from the parts a viewer fetched.
 */

const FFMPEG = process.env.FFMPEG_PATH || 'ffmpeg';

export interface EncoderSettings {
  width: number;
  height: number;
  fps: number;
  /** Video bits per second. */
  bitrate: number;
  /** Seconds between keyframes. */
  keyframeSeconds: number;
  /** x264 preset. */
  preset: string;
}

/** x264 (zerolatency: no lookahead, no B-frames) and AAC into FLV, as OBS sends it. */
export function encodeArgs(s: EncoderSettings): string[] {
  const gop = String(Math.max(1, Math.round(s.fps * s.keyframeSeconds)));
  return [
    '-c:v', 'libx264', '-preset', s.preset, '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    '-g', gop, '-keyint_min', gop, '-sc_threshold', '0',
    '-b:v', String(s.bitrate), '-maxrate', String(s.bitrate), '-bufsize', String(s.bitrate * 2),
    '-c:a', 'aac', '-b:a', '128k',
  ];
}

/** The live test encoder: generated picture with the clock strip, paced to real time by -re, pushed over RTMP. */
export function liveEncoderArgs(s: EncoderSettings, referenceUs: number, url: string): string[] {
  const picture: EncoderPicture = { width: s.width, height: s.height, fps: s.fps, referenceUs };
  return ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', encoderGraph(picture), ...encodeArgs(s), '-f', 'flv', url];
}

/** A clip encoded once with the same settings, as fast as the machine allows (the ramp's pushers re-send it). */
export function clipArgs(s: EncoderSettings, seconds: number, file: string): string[] {
  const picture: EncoderPicture = { width: s.width, height: s.height, fps: s.fps, referenceUs: 0 };
  return ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', encoderGraph(picture), '-t', String(seconds), ...encodeArgs(s), '-f', 'flv', file];
}

/**
 * Re-sends the clip in a loop in real time, without re-encoding: a broadcaster that costs almost
 * no CPU here. `-map_metadata -1` leaves the clip's own tags out of the FLV: with them, 4 pushers
 * connecting at once broke the RTMP ingest's parsing of all 4 in one trial, without them of none
 * (but it also happened without them: an ingest bug, reported in
 * docs/benchmarks.md#live).
 */
export function pusherArgs(clip: string, url: string): string[] {
  return ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', clip, '-map_metadata', '-1', '-c', 'copy', '-f', 'flv', url];
}

export interface FfmpegChild {
  readonly pid: number;
  readonly child: ChildProcess;
  running(): boolean;
  /** The last lines it wrote to stderr. */
  stderr(): string;
  /** SIGINT first (an encoder closes its RTMP connection cleanly), SIGKILL after 3 s. */
  stop(): Promise<void>;
}

export function startFfmpeg(args: string[], stdio: 'pipe-in-out' | 'none' = 'none'): FfmpegChild {
  const child = spawn(FFMPEG, args, { stdio: stdio === 'none' ? ['ignore', 'ignore', 'pipe'] : ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  child.once('error', (e) => (err += `\nspawn failed: ${e.message} (apt-get install ffmpeg)`));
  const { stop, running } = stoppableChild(child, 3000, 'SIGINT');
  return { pid: child.pid ?? -1, child, running, stderr: () => err, stop };
}

/** Encodes the clip; resolves when ffmpeg is done. */
export async function encodeClip(s: EncoderSettings, seconds: number, file: string): Promise<void> {
  const enc = startFfmpeg(clipArgs(s, seconds, file));
  const code = await new Promise<number | null>((resolve) => enc.child.once('exit', (c) => resolve(c)));
  await enc.stop();
  if (code !== 0) throw new Error(`encoding the pusher clip failed (exit ${code}): ${enc.stderr()}`);
}

/**
 * ffmpeg decoding an fMP4 byte stream (init segment, then parts, written in order) and handing
 * back the clock of every frame, in decode order: `captures[i]` is frame i's capture time (ms
 * since the epoch), null when the strip was unreadable.
 */
export class ClockDecoder {
  readonly captures: (number | null)[] = [];
  private readonly proc: FfmpegChild;
  private pending: Buffer = Buffer.alloc(0);
  private readonly frameBytes = CLOCK_STRIP_WIDTH * CLOCK_STRIP_HEIGHT;

  constructor(private readonly referenceMs: number) {
    this.proc = startFfmpeg(
      [
        '-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'mp4', '-i', 'pipe:0', '-map', '0:v:0',
        '-vf', `crop=${CLOCK_STRIP_WIDTH}:${CLOCK_STRIP_HEIGHT}:0:0,format=gray`, '-fps_mode', 'passthrough', '-f', 'rawvideo', 'pipe:1',
      ],
      'pipe-in-out',
    );
    this.proc.child.stdin!.on('error', () => {}); // EPIPE when it is stopped: nothing to do
    this.proc.child.stdout!.on('data', (d: Buffer) => {
      this.pending = this.pending.length ? Buffer.concat([this.pending, d]) : d;
      while (this.pending.length >= this.frameBytes) {
        const frame = this.pending.subarray(0, this.frameBytes);
        this.pending = this.pending.subarray(this.frameBytes);
        const ms = decodeClockStrip(frame, CLOCK_STRIP_WIDTH);
        this.captures.push(ms === null ? null : this.referenceMs + ms);
      }
    });
  }

  get pid(): number {
    return this.proc.pid;
  }

  write(bytes: Buffer): void {
    if (this.proc.running()) this.proc.child.stdin!.write(bytes);
  }

  stop(): Promise<void> {
    this.proc.child.stdin!.end();
    return this.proc.stop();
  }
}

/** One process as /proc shows it. */
export interface ProcInfo {
  pid: number;
  ppid: number;
  /** CPU seconds, user + system, all threads. */
  cpu: number;
}

/** Every process on the machine (Linux /proc). */
export async function scanProcesses(): Promise<Map<number, ProcInfo>> {
  const out = new Map<number, ProcInfo>();
  const names = await readdir('/proc').catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((n) => /^\d+$/.test(n))
      .map(async (n) => {
        try {
          const s = parseProcStat(await readFile(`/proc/${n}/stat`, 'utf8'));
          out.set(Number(n), { pid: Number(n), ppid: s.ppid, cpu: s.cpuSeconds });
        } catch {
          // gone meanwhile
        }
      }),
  );
  return out;
}

/** The pid and every process below it. */
export function descendants(table: Map<number, ProcInfo>, root: number): Set<number> {
  const kids = new Map<number, number[]>();
  for (const p of table.values()) kids.set(p.ppid, [...(kids.get(p.ppid) ?? []), p.pid]);
  const out = new Set<number>();
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    if (out.has(pid) || !table.has(pid)) continue;
    out.add(pid);
    stack.push(...(kids.get(pid) ?? []));
  }
  return out;
}

/** Shares in percent of one core over a window, per named group of processes. */
export interface CpuWindow {
  seconds: number;
  groups: Record<string, number>;
  /** Busy CPU of the whole machine, percent of one core (200 = both cores of two). */
  host: number | null;
  /** host minus every group: other people's work on the machine. */
  other: number | null;
  /** 1-minute load average at the end of the window. */
  load1: number;
}

/**
 * Starts metering every process; the returned function takes a classifier (group name → pids,
 * looked up on the table at the end of the window) and reports each group's share. A process that
 * started during the window counts from zero; one that ended during it is lost (none should).
 */
export async function startCpuWindow(): Promise<(classify: (table: Map<number, ProcInfo>) => Record<string, Iterable<number>>) => Promise<CpuWindow>> {
  const t0 = performance.now();
  const [table0, host0] = await Promise.all([scanProcesses(), hostBusySeconds()]);
  return async (classify) => {
    const [table1, host1] = await Promise.all([scanProcesses(), hostBusySeconds()]);
    const seconds = (performance.now() - t0) / 1000;
    const pct = (cpu: number) => (cpu / seconds) * 100;
    const groups: Record<string, number> = {};
    let ours = 0;
    for (const [name, pids] of Object.entries(classify(table1))) {
      let sum = 0;
      for (const pid of new Set(pids)) {
        const end = table1.get(pid);
        if (end) sum += end.cpu - (table0.get(pid)?.cpu ?? 0);
      }
      groups[name] = pct(sum);
      ours += sum;
    }
    const host = host0 === null || host1 === null ? null : pct(host1 - host0);
    return { seconds, groups, host, other: host === null ? null : Math.max(0, host - pct(ours)), load1: os.loadavg()[0]! };
  };
}
