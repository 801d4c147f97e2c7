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

  it('logs the input closing at a stop as an expected end (info); before a stop, and other errors, stay errors', async () => {
    const ends = [
      '[error] rtmp://127.0.0.1:1935/live/k?pull=t: Input/output error',
      '[error] Error writing trailer of pipe:1: Broken pipe',
      '[error] Conversion failed!',
    ];
    const failure = '[error] Error closing file pipe:3: No space left on device';
    const script = (delayMs: number) => `setTimeout(() => { process.stderr.write(${JSON.stringify([...ends, failure].join('\n') + '\n')}); process.exit(1); }, ${delayMs})`;

    // The broadcaster is still there: ffmpeg losing its input is a failure (and a restart follows).
    const crashed: Line[] = [];
    let exited!: () => void;
    const firstExit = new Promise<void>((r) => (exited = r));
    const a = new FfmpegSupervisor({
      ffmpegPath: process.execPath, command: fake(script(0)), log: memoryLog(crashed),
      backoff: { initialMs: 5000, maxMs: 5000 }, stableMs: 60_000, onRun: () => {}, onExit: () => exited(),
    });
    a.start();
    await firstExit;
    await a.stop();
    expect(crashed.filter((l) => l.msg === 'ffmpeg says').map((l) => l.level)).toEqual(['error', 'error', 'error', 'error']);

    // A stop was asked for (the broadcaster left): the same end is expected; the disk failure is not.
    const ended: Line[] = [];
    const b = new FfmpegSupervisor({
      ffmpegPath: process.execPath, command: fake(script(300)), log: memoryLog(ended),
      // LiveSession's redaction, which also swallows the ':' in front of the reason.
      redact: (line) => line.replace(/(rtmps?:\/\/[^\s/]+\/[^\s/]+\/)\S+/g, '$1<stream key>'),
      backoff: { initialMs: 10, maxMs: 10 }, stableMs: 60_000, onRun: () => {}, onExit: () => {},
    });
    b.start();
    await b.stop(5000);
    const said = ended.filter((l) => l.msg === 'ffmpeg says');
    expect(said.map((l) => [l.level, l.obj.ffmpeg, l.obj.expected])).toEqual([
      ['info', 'rtmp://127.0.0.1:1935/live/<stream key> Input/output error', true],
      ['info', 'Error writing trailer of pipe:1: Broken pipe', true],
      ['info', 'Conversion failed!', true],
      ['error', 'Error closing file pipe:3: No space left on device', undefined],
    ]);
  });
});
