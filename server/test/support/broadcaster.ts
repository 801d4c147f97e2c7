import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { FFMPEG } from './services.ts';

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) if (c.exitCode === null) c.kill('SIGKILL');
});

export interface Broadcaster {
  child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  stderr: () => string;
  /** Stops publishing the way an encoder does (ffmpeg closes the RTMP connection on SIGINT). */
  stop(): Promise<number | null>;
}

/**
 * A test encoder: ffmpeg's test pattern and a sine tone, H.264 (1 s GOP) and AAC, in real time,
 * published over RTMP, as OBS would. With `input`, a pre-encoded H.264/AAC file is re-streamed
 * unchanged (`-c copy`, metadata included) instead.
 */
export function broadcast(url: string, opts: { seconds?: number; input?: string } = {}): Broadcaster {
  const source = opts.input
    ? ['-i', opts.input, '-c', 'copy']
    : [
        '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30',
        '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30', '-pix_fmt', 'yuv420p',
        '-c:a', 'aac', '-b:a', '64k',
      ];
  const args = [
    '-hide_banner', '-nostdin', '-loglevel', 'warning', '-re',
    ...source,
    ...(opts.seconds ? ['-t', String(opts.seconds)] : []),
    '-f', 'flv', url,
  ];
  const child = spawn(FFMPEG, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return {
    child,
    exited,
    stderr: () => err,
    stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      return exited;
    },
  };
}

/** Polls `fn` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether a process is gone (a zombie counts as gone: it runs nothing any more). */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}
