import { parseLadder } from '../../media/src/transcode/ffmpeg-args.ts';
import type { EncoderSettings } from './live-processes.ts';
import { BenchOptionsError, numberReader } from './options.ts';

/** Settings of `npm run bench -- live`, from BENCH_LIVE_* environment variables. */
export const LIVE_ENV_HELP = `Live scenario:
  BENCH_LIVE_PHASES          phases to run, comma-separated (default latency,ladder,ramp)
  BENCH_LIVE_SIZE            encoder picture (default 1280x720, at least 768x64)
  BENCH_LIVE_FPS             encoder frame rate (default 30)
  BENCH_LIVE_BITRATE         encoder video bitrate in kbit/s (default 2500)
  BENCH_LIVE_KEYFRAME        seconds between encoder keyframes (default 1)
  BENCH_LIVE_PRESET          encoder x264 preset (default veryfast, OBS's default)
  BENCH_LIVE_LADDER          HLS_LADDER of the ladder phase (default 720p:2500k,480p:1200k,360p:700k)
  BENCH_LIVE_PLAYER_SECONDS  measured seconds per hls.js mode (default 20)
  BENCH_LIVE_PLAYER_WARMUP   seconds of play before measuring (default 10)
  BENCH_LIVE_CATCHUP         hls.js maxLiveSyncPlaybackRate (default 1.5; 1 = hls.js's default, never catch up)
  BENCH_LIVE_CPU_SECONDS     CPU window of the passthrough and ladder phases (default 15)
  BENCH_LIVE_STEP_SECONDS    measured seconds per ramp step (default 12)
  BENCH_LIVE_MAX_STREAMS     ramp ceiling (default 32)
  BENCH_LIVE_RAMP_P50_MS     a ramp step passes while the probe's capture→fetchable p50 is at most this (default 1000)
  BENCH_LIVE_RAMP_BEHIND_MS  … and no pusher has fallen further behind its real-time schedule (default 1000)
  BENCH_CHROMIUM             Chromium binary (default /usr/bin/chromium)`;

export type LivePhase = 'latency' | 'ladder' | 'ramp';
const PHASES: readonly LivePhase[] = ['latency', 'ladder', 'ramp'];

export interface LiveOptions {
  phases: LivePhase[];
  encoder: EncoderSettings;
  ladder: string;
  playerSeconds: number;
  playerWarmupSeconds: number;
  catchUpRate: number;
  cpuSeconds: number;
  stepSeconds: number;
  maxStreams: number;
  rampP50Ms: number;
  rampBehindMs: number;
  chromium: string;
}

export function readLiveOptions(env: Record<string, string | undefined>): LiveOptions {
  const problems: string[] = [];
  const number = numberReader(env, problems);
  const phases = (env.BENCH_LIVE_PHASES || PHASES.join(',')).split(',').map((p) => p.trim());
  for (const p of phases) if (!PHASES.includes(p as LivePhase)) problems.push(`BENCH_LIVE_PHASES: unknown phase "${p}" (expected ${PHASES.join(', ')})`);
  const size = /^(\d+)x(\d+)$/.exec(env.BENCH_LIVE_SIZE || '1280x720');
  const width = Number(size?.[1] ?? 0);
  const height = Number(size?.[2] ?? 0);
  if (!size || width < 768 || height < 64 || width % 2 || height % 2) problems.push(`BENCH_LIVE_SIZE=${env.BENCH_LIVE_SIZE}: expected <even width ≥ 768>x<even height ≥ 64>`);
  const ladder = env.BENCH_LIVE_LADDER ?? '720p:2500k,480p:1200k,360p:700k';
  try {
    if (parseLadder(ladder).length === 0 && phases.includes('ladder')) problems.push('BENCH_LIVE_LADDER: empty, but the ladder phase needs rungs');
  } catch (err) {
    problems.push(`BENCH_LIVE_LADDER: ${(err as Error).message}`);
  }
  const preset = env.BENCH_LIVE_PRESET || 'veryfast';
  if (!/^[a-z]+$/.test(preset)) problems.push(`BENCH_LIVE_PRESET=${preset}: expected an x264 preset name`);
  const options: LiveOptions = {
    phases: phases as LivePhase[],
    encoder: {
      width,
      height,
      fps: number('BENCH_LIVE_FPS', 30, 1),
      bitrate: number('BENCH_LIVE_BITRATE', 2500, 100) * 1000,
      keyframeSeconds: number('BENCH_LIVE_KEYFRAME', 1, 0.1, false),
      preset,
    },
    ladder,
    playerSeconds: number('BENCH_LIVE_PLAYER_SECONDS', 20, 1),
    playerWarmupSeconds: number('BENCH_LIVE_PLAYER_WARMUP', 10, 0),
    catchUpRate: number('BENCH_LIVE_CATCHUP', 1.5, 1, false),
    cpuSeconds: number('BENCH_LIVE_CPU_SECONDS', 15, 1),
    stepSeconds: number('BENCH_LIVE_STEP_SECONDS', 12, 2),
    maxStreams: number('BENCH_LIVE_MAX_STREAMS', 32, 1),
    rampP50Ms: number('BENCH_LIVE_RAMP_P50_MS', 1000, 1),
    rampBehindMs: number('BENCH_LIVE_RAMP_BEHIND_MS', 1000, 1),
    chromium: env.BENCH_CHROMIUM || '/usr/bin/chromium',
  };
  if (problems.length > 0) throw new BenchOptionsError(problems);
  return options;
}

/**
 * The ramp's next stream count: doubling from 1 until a step fails (or the ceiling), then
 * bisecting between the largest passing and the smallest failing count, at most `maxBisections`
 * times. null when done. Pure, so the search is unit-tested.
 */
export function nextRampSize(history: readonly { streams: number; ok: boolean }[], maxStreams: number, maxBisections = 2): number | null {
  if (history.length === 0) return 1;
  const passed = history.filter((h) => h.ok).map((h) => h.streams);
  const failed = history.filter((h) => !h.ok).map((h) => h.streams);
  const best = passed.length ? Math.max(...passed) : 0;
  if (failed.length === 0) {
    if (best >= maxStreams) return null;
    return Math.min(maxStreams, best * 2);
  }
  const worst = Math.min(...failed);
  const firstFailure = history.findIndex((h) => !h.ok);
  const bisections = history.length - 1 - firstFailure;
  if (bisections >= maxBisections || worst - best <= 1) return null;
  return Math.floor((best + worst) / 2);
}
