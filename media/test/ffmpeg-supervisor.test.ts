import { describe, expect, it } from 'vitest';
import type { MediaLog } from '../src/log.ts';
import { FfmpegSupervisor } from '../src/transcode/ffmpeg-supervisor.ts';

interface Line {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

function memoryLog(lines: Line[]): MediaLog {
  const at = (level: string) => (obj: object, msg: string) => lines.push({ level, obj: obj as Record<string, unknown>, msg });
  const log: MediaLog = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log };
  return log;
}

/** Node stands in for ffmpeg: the supervisor only cares about a child's pipes and exit. */
const fake = (script: string) => () => ({ args: ['-e', script], outputs: [{ rendition: 'source', fd: 1 }] });

describe('ffmpeg supervisor', () => {
  it('restarts a child that exits, with growing pauses, and logs its stderr by level', async () => {
    const lines: Line[] = [];
    const runs: number[] = [];
    const exits: { code: number | null; restarting: boolean }[] = [];
    let third!: () => void;
    const thirdRun = new Promise<void>((r) => (third = r));
    const s = new FfmpegSupervisor({
      ffmpegPath: process.execPath,
      command: fake(`process.stderr.write('[error] boom\\n[warning] careful\\nplain\\n'); process.stdout.write('data'); process.exit(3)`),
      log: memoryLog(lines),
      backoff: { initialMs: 50, maxMs: 200 },
      stableMs: 60_000,
      onRun: (outputs) => {
        runs.push(Date.now());
        expect([...outputs.keys()]).toEqual(['source']);
        if (runs.length === 3) third();
      },
      onExit: (e) => void exits.push({ code: e.code, restarting: e.restarting }),
    });
    s.start();
    await thirdRun;
    await s.stop();
    expect(s.restarts).toBeGreaterThanOrEqual(2);
    expect(runs[1]! - runs[0]!).toBeGreaterThanOrEqual(50);
    expect(runs[2]! - runs[1]!).toBeGreaterThanOrEqual(100); // doubled
    expect(exits.slice(0, 2)).toEqual([
      { code: 3, restarting: true },
      { code: 3, restarting: true },
    ]);
    expect(lines).toContainEqual({ level: 'error', obj: { ffmpeg: 'boom' }, msg: 'ffmpeg says' });
    expect(lines).toContainEqual({ level: 'warn', obj: { ffmpeg: 'careful' }, msg: 'ffmpeg says' });
    expect(lines).toContainEqual({ level: 'info', obj: { ffmpeg: 'plain' }, msg: 'ffmpeg says' });
  });

  it('stop ends a running child (SIGTERM) and never restarts it', async () => {
    let started!: (pid: number) => void;
    const pid = new Promise<number>((r) => (started = r));
    const exits: { signal: string | null; restarting: boolean }[] = [];
    const s = new FfmpegSupervisor({
      ffmpegPath: process.execPath,
      command: fake('setInterval(() => {}, 1000)'),
      log: memoryLog([]),
      backoff: { initialMs: 10, maxMs: 10 },
      stableMs: 1000,
      onRun: (_o, p) => started(p),
      onExit: (e) => void exits.push({ signal: e.signal, restarting: e.restarting }),
    });
    s.start();
    const p = await pid;
    await s.stop();
    expect(exits).toEqual([{ signal: 'SIGTERM', restarting: false }]);
    expect(() => process.kill(p, 0)).toThrow();
    expect(s.pid).toBeUndefined();
    s.start(); // stopped for good
    expect(s.pid).toBeUndefined();
  });

  it('waits for a child that is finishing on its own before signalling it', async () => {
    const exits: { code: number | null; signal: string | null }[] = [];
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const s = new FfmpegSupervisor({
      ffmpegPath: process.execPath,
      command: fake('setTimeout(() => process.exit(0), 300)'),
      log: memoryLog([]),
      backoff: { initialMs: 10, maxMs: 10 },
      stableMs: 1000,
      onRun: () => started(),
      onExit: (e) => void exits.push({ code: e.code, signal: e.signal }),
    });
    s.start();
    await running;
    await s.stop(5000);
    expect(exits).toEqual([{ code: 0, signal: null }]);
  });
});
