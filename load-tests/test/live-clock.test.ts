import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseInit } from '../../media/src/hls/fmp4.ts';
import { children } from '../../media/src/hls/mp4-boxes.ts';
import { assertService, FFMPEG, ffmpegAvailable } from '../../server/test/support/services.ts';
import {
  capturesByItem,
  CLOCK_BLOCK,
  CLOCK_STRIP_HEIGHT,
  CLOCK_STRIP_WIDTH,
  decodeClockStrip,
  encoderGraph,
  fetchableLatencies,
  percentile,
  realtimeRate,
  behindSchedule,
  segmentLatencies,
  summarize,
  videoSampleCount,
} from '../bench/live-clock.ts';
import { nextRampSize, readLiveOptions } from '../bench/live-options.ts';
import { BenchOptionsError } from '../bench/options.ts';

/** A strip as the encoder draws it: row 0 the complement of each bit, row 1 the bits. */
function strip(value: number, channels = 1): Uint8Array {
  const px = new Uint8Array(CLOCK_STRIP_WIDTH * CLOCK_STRIP_HEIGHT * channels);
  for (let y = 0; y < CLOCK_STRIP_HEIGHT; y++) {
    for (let x = 0; x < CLOCK_STRIP_WIDTH; x++) {
      const bit = Math.floor(value / 2 ** Math.floor(x / CLOCK_BLOCK)) % 2;
      const on = y < CLOCK_BLOCK ? 1 - bit : bit;
      for (let c = 0; c < channels; c++) px[(y * CLOCK_STRIP_WIDTH + x) * channels + c] = on ? 235 : 16;
    }
  }
  return px;
}

describe('the clock strip', () => {
  it('reads back what was drawn, in grey and in RGBA', () => {
    for (const v of [0, 1, 1234, 2 ** 23 + 5, 2 ** 24 - 1]) {
      expect(decodeClockStrip(strip(v), CLOCK_STRIP_WIDTH)).toBe(v);
      expect(decodeClockStrip(strip(v, 4), CLOCK_STRIP_WIDTH, 4)).toBe(v);
    }
  });

  it('refuses a strip whose block is not the complement of its partner', () => {
    const px = strip(4242);
    // Paint bit 3's block mid-grey in both rows.
    for (let y = 0; y < CLOCK_STRIP_HEIGHT; y++) for (let x = 3 * CLOCK_BLOCK; x < 4 * CLOCK_BLOCK; x++) px[y * CLOCK_STRIP_WIDTH + x] = 128;
    expect(decodeClockStrip(px, CLOCK_STRIP_WIDTH)).toBeNull();
    expect(decodeClockStrip(new Uint8Array(CLOCK_STRIP_WIDTH * CLOCK_STRIP_HEIGHT), CLOCK_STRIP_WIDTH)).toBeNull();
  });

  it('runs as a standalone function (the browser page gets its source)', () => {
    const rebuilt = new Function(`const __name = (f) => f; return (${decodeClockStrip.toString()});`)() as typeof decodeClockStrip;
    expect(rebuilt(strip(99), CLOCK_STRIP_WIDTH)).toBe(99);
  });

  it('refuses a picture too small for the strip', () => {
    expect(() => encoderGraph({ width: 640, height: 360, fps: 30, referenceUs: 0 })).toThrow(/at least 768x64/);
  });

  it('survives x264 and fMP4: frames carry their capture time, and the parts count their frames', () => {
    assertService('ffmpeg', ffmpegAvailable());
    const referenceMs = Date.now();
    const graph = encoderGraph({ width: 768, height: 128, fps: 30, referenceUs: referenceMs * 1000 });
    const mp4 = spawnSync(
      FFMPEG,
      ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', graph, '-frames:v', '15', '-an', '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '30', '-pix_fmt', 'yuv420p',
        '-f', 'mp4', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '100000', 'pipe:1'],
      { maxBuffer: 64 << 20, timeout: 30_000 },
    );
    expect(mp4.status, mp4.stderr?.toString()).toBe(0);
    const bytes = mp4.stdout;
    const boxes = children(bytes);
    const moovEnd = boxes.find((b) => b.type === 'moov')!.end;
    const init = parseInit(bytes.subarray(0, moovEnd));
    expect(videoSampleCount(bytes.subarray(moovEnd), init)).toBe(15);
    expect(boxes.filter((b) => b.type === 'moof').length).toBeGreaterThan(1);

    const raw = spawnSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-f', 'mp4', '-i', 'pipe:0', '-vf', `crop=${CLOCK_STRIP_WIDTH}:${CLOCK_STRIP_HEIGHT}:0:0,format=gray`, '-f', 'rawvideo', 'pipe:1'], {
      input: bytes,
      maxBuffer: 64 << 20,
      timeout: 30_000,
    });
    expect(raw.status, raw.stderr?.toString()).toBe(0);
    const size = CLOCK_STRIP_WIDTH * CLOCK_STRIP_HEIGHT;
    const clocks = Array.from({ length: raw.stdout.length / size }, (_, i) => decodeClockStrip(raw.stdout.subarray(i * size, (i + 1) * size), CLOCK_STRIP_WIDTH));
    expect(clocks).toHaveLength(15);
    const now = Date.now() - referenceMs;
    for (const [i, c] of clocks.entries()) {
      expect(c).not.toBeNull();
      expect(c!).toBeLessThanOrEqual(now);
      if (i > 0) expect(c!).toBeGreaterThanOrEqual(clocks[i - 1]!); // generated in order (without -re, as fast as possible)
    }
  }, 60_000);
});

describe('latency arithmetic', () => {
  const media = [
    { fetchableAt: 1000, frames: 2 },
    { fetchableAt: 1400, frames: 3 },
  ];

  it('pairs each decoded frame with the part that carried it', () => {
    expect(capturesByItem(media, [100, 133, null, 200, 233])).toEqual([[100, 133], [null, 200, 233]]);
    // Frames still in the decoder are null.
    expect(capturesByItem(media, [100, 133, 166])).toEqual([[100, 133], [166, null, null]]);
  });

  it('measures capture → fetchable per frame, and capture → segment seen, within a window', () => {
    const parts = [
      { msn: 7, fetchableAt: 1000, frames: 2 },
      { msn: 7, fetchableAt: 1400, frames: 2 },
      { msn: 8, fetchableAt: 1800, frames: 1 },
    ];
    const captures = [100, 133, 166, null, 300];
    expect(fetchableLatencies(parts, captures, 0, 2000)).toEqual([900, 867, 1234, 1500]);
    expect(fetchableLatencies(parts, captures, 1100, 1500)).toEqual([1234]);
    // Segment 7 seen complete at 2500, segment 8 was there before the viewer came (0): left out.
    const seen = new Map([[7, 2500], [8, 0]]);
    expect(segmentLatencies(seen, parts, captures, 0, 3000)).toEqual([2400, 2367, 2334]);
    expect(segmentLatencies(seen, parts, captures, 0, 2000)).toEqual([]);
  });

  it('measures how far a stream fell behind its own schedule', () => {
    // Real time with jitter: stays within the jitter.
    expect(behindSchedule([{ fetchableAt: 1000, duration: 0.5 }, { fetchableAt: 1550, duration: 0.5 }, { fetchableAt: 1990, duration: 0.5 }])).toEqual([0, 50, 0]);
    // Half speed: falls behind by the missing media time.
    const slow = Array.from({ length: 5 }, (_, i) => ({ fetchableAt: i * 1000, duration: 0.5 }));
    expect(behindSchedule(slow)).toEqual([0, 500, 1000, 1500, 2000]);
    expect(behindSchedule([])).toEqual([]);
  });

  it('summarizes with nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(summarize(values)).toEqual({ n: 100, p50: 50, p95: 95, p99: 99, min: 1, max: 100 });
    expect(percentile([], 50)).toBeNaN();
  });

  it('measures real time between the first and the last arrival', () => {
    const parts = (n: number, every: number) => Array.from({ length: n }, (_, i) => ({ fetchableAt: i * every, duration: 0.333 }));
    expect(realtimeRate(parts(10, 333))).toBeCloseTo(1, 5);
    expect(realtimeRate(parts(10, 666))).toBeCloseTo(0.5, 5);
    expect(realtimeRate(parts(1, 333))).toBeNull();
    expect(realtimeRate([{ fetchableAt: 5, duration: 1 }, { fetchableAt: 5, duration: 1 }])).toBeNull();
  });
});

describe('live options and the ramp', () => {
  it('defaults to a 720p30 encoder and the documented 3-rung ladder', () => {
    const o = readLiveOptions({});
    expect(o.encoder).toEqual({ width: 1280, height: 720, fps: 30, bitrate: 2_500_000, keyframeSeconds: 1, preset: 'veryfast' });
    expect(o.ladder).toBe('720p:2500k,480p:1200k,360p:700k');
    expect(o.phases).toEqual(['latency', 'ladder', 'ramp']);
    expect(o.maxStreams).toBe(32);
  });

  it('lists every bad setting at once', () => {
    const bad = { BENCH_LIVE_SIZE: '640x360', BENCH_LIVE_PHASES: 'latency,nope', BENCH_LIVE_LADDER: '720:2500k', BENCH_LIVE_FPS: '0' };
    expect(() => readLiveOptions(bad)).toThrow(BenchOptionsError);
    try {
      readLiveOptions(bad);
    } catch (err) {
      expect((err as BenchOptionsError).problems).toHaveLength(4);
    }
  });

  it('doubles until a step fails, then bisects at most twice', () => {
    const h: { streams: number; ok: boolean }[] = [];
    const run = (capacity: number, max = 64) => {
      h.length = 0;
      for (let n = nextRampSize(h, max); n !== null; n = nextRampSize(h, max)) h.push({ streams: n, ok: n <= capacity });
      return h.map((x) => x.streams);
    };
    expect(run(20)).toEqual([1, 2, 4, 8, 16, 32, 24, 20]);
    expect(run(5)).toEqual([1, 2, 4, 8, 6, 5]);
    expect(run(0)).toEqual([1]);
    expect(run(100, 16)).toEqual([1, 2, 4, 8, 16]);
    expect(run(100, 12)).toEqual([1, 2, 4, 8, 12]);
  });
});
