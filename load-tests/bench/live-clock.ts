import type { InitInfo } from '../../media/src/hls/fmp4.ts';
import { children, find, findAll } from '../../media/src/hls/mp4-boxes.ts';

/**
 * The encoder's clock, carried in the picture. The test encoder (ffmpeg, lavfi) stamps every
 * frame, at the moment the frame is generated, with the wall-clock time in milliseconds since a
 * reference the harness chose: `setpts=RTCTIME-<reference µs>` gives the frame that time as its
 * timestamp, and `geq` draws it as a strip of black and white blocks in the top-left corner (one
 * row of bits, one row of their complements, so a misread block is detected rather than trusted).
 * The strip survives H.264, passthrough, scaling and hls.js unchanged, whatever the pipeline does
 * to timestamps, so the same decoder reads it from frames the harness decodes and from the
 * frames Chromium shows. Pure functions; load-tests/test/live-clock.test.ts covers them.
 */

/** Bits of the millisecond clock: 2^24 ms is 4.6 hours of run. */
export const CLOCK_BITS = 24;
/** Side of one block in pixels, a multiple of the 16-pixel macroblock so blocks stay crisp. */
export const CLOCK_BLOCK = 32;
export const CLOCK_STRIP_WIDTH = CLOCK_BITS * CLOCK_BLOCK;
export const CLOCK_STRIP_HEIGHT = 2 * CLOCK_BLOCK;

export interface EncoderPicture {
  width: number;
  height: number;
  fps: number;
  /** Wall clock (µs since the epoch) the strip counts from. */
  referenceUs: number;
  toneHz?: number;
}

/**
 * The lavfi graph of the test encoder: testsrc2 with the clock strip overlaid (out0) and a sine
 * tone (out1). The strip's own timestamps are put back to frame numbers after geq so that both
 * overlay inputs run on the same clock.
 */
export function encoderGraph(p: EncoderPicture): string {
  if (p.width < CLOCK_STRIP_WIDTH || p.height < CLOCK_STRIP_HEIGHT) throw new Error(`the picture must be at least ${CLOCK_STRIP_WIDTH}x${CLOCK_STRIP_HEIGHT}`);
  const b = CLOCK_BLOCK;
  const bit = `mod(floor(floor(T*1000)/pow(2\\,floor(X/${b})))\\,2)`;
  // Row 0 holds the complement, row 1 the bits.
  const lum = `255*if(lt(Y\\,${b})\\,1-${bit}\\,${bit})`;
  return [
    `testsrc2=size=${p.width}x${p.height}:rate=${p.fps}[bg]`,
    `nullsrc=size=${CLOCK_STRIP_WIDTH}x${CLOCK_STRIP_HEIGHT}:rate=${p.fps},settb=AVTB,setpts=RTCTIME-${Math.round(p.referenceUs)},format=gray,geq=lum='${lum}',setpts=N/(${p.fps}*TB)[clock]`,
    `[bg][clock]overlay=0:0,format=yuv420p[out0]`,
    `sine=frequency=${p.toneHz ?? 440}:sample_rate=48000[out1]`,
  ].join(';');
}

/**
 * Reads the strip from one 8-bit-per-pixel picture (luma, or any channel of a grey strip) whose
 * rows are `stride` bytes apart: milliseconds since the reference, or null when any block is not
 * clearly the complement of its partner. Self-contained (no closures, no imports) so the same
 * source runs in the browser page.
 */
export function decodeClockStrip(pixels: ArrayLike<number>, stride: number, channels = 1): number | null {
  const bits = 24;
  const block = 32;
  let value = 0;
  for (let b = 0; b < bits; b++) {
    const x = b * block + block / 2;
    const sample = (y: number) => {
      // Mean of a 4×4 patch at the block's centre: robust to coding noise.
      let sum = 0;
      for (let dy = -2; dy < 2; dy++) for (let dx = -2; dx < 2; dx++) sum += pixels[((y + dy) * stride + x + dx) * channels]!;
      return sum / 16;
    };
    const complement = sample(block / 2);
    const bit = sample(block + block / 2);
    // Each pair is one bright and one dark block; anything in between is a misread.
    if (Math.abs(bit - complement) < 64) return null;
    if (bit > complement) value += 2 ** b;
  }
  return value;
}

/** Video samples (frames) in one LL-HLS part: moof/traf/trun sample counts of the init's video track. */
export function videoSampleCount(part: Buffer, init: InitInfo): number {
  const video = init.tracks.find((t) => t.kind === 'video');
  if (!video) return 0;
  let count = 0;
  for (const moof of children(part).filter((b) => b.type === 'moof')) {
    for (const traf of findAll(part, 'traf', moof)) {
      const tfhd = find(part, ['tfhd'], traf);
      if (!tfhd || part.readUInt32BE(tfhd.body + 4) !== video.id) continue;
      for (const trun of findAll(part, 'trun', traf)) count += part.readUInt32BE(trun.body + 4);
    }
  }
  return count;
}

/** A part (or segment) the viewer saw, with when it became fetchable and how many frames it holds. */
export interface FetchedMedia {
  /** Wall clock (ms since the epoch) at which the playlist listing it arrived. */
  fetchableAt: number;
  frames: number;
}

/** Capture times of the frames of each item, in order (null when unreadable or not decoded yet). */
export function capturesByItem(media: readonly FetchedMedia[], captures: readonly (number | null)[]): (number | null)[][] {
  const out: (number | null)[][] = [];
  let frame = 0;
  for (const m of media) {
    const mine: (number | null)[] = [];
    for (let i = 0; i < m.frames; i++, frame++) mine.push(frame < captures.length ? (captures[frame] ?? null) : null);
    out.push(mine);
  }
  return out;
}

/** A part a viewer fed to the decoder: its segment and when it became fetchable. */
export interface DecodedPart extends FetchedMedia {
  msn: number;
}

/** Capture → fetchable of every decoded frame whose part became fetchable within [from, to] (ms since the epoch). */
export function fetchableLatencies(parts: readonly DecodedPart[], captures: readonly (number | null)[], from: number, to: number): number[] {
  const byItem = capturesByItem(parts, captures);
  const out: number[] = [];
  parts.forEach((part, i) => {
    if (part.fetchableAt < from || part.fetchableAt > to) return;
    for (const c of byItem[i]!) if (c !== null) out.push(part.fetchableAt - c);
  });
  return out;
}

/**
 * Capture → "segment seen" for every decoded frame of the segments first seen within [from, to]:
 * the time a viewer found the whole segment listed (`seenAt`, by segment number; 0 for segments
 * that were there before it came), the frames' capture times coming from the decoded parts.
 */
export function segmentLatencies(seenAt: ReadonlyMap<number, number>, parts: readonly DecodedPart[], captures: readonly (number | null)[], from: number, to: number): number[] {
  const byItem = capturesByItem(parts, captures);
  const out: number[] = [];
  parts.forEach((part, i) => {
    const at = seenAt.get(part.msn);
    if (!at || at < from || at > to) return;
    for (const c of byItem[i]!) if (c !== null) out.push(at - c);
  });
  return out;
}

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function summarize(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN };
}

/**
 * Media seconds published per wall-clock second, from parts seen arriving (fetchable time and
 * duration): 1.0 is real time. Measured between the first and the last arrival, so the
 * part granularity does not bias it. null with fewer than two arrivals or no time between them.
 */
export function realtimeRate(arrivals: readonly { fetchableAt: number; duration: number }[]): number | null {
  if (arrivals.length < 2) return null;
  const sorted = [...arrivals].sort((a, b) => a.fetchableAt - b.fetchableAt);
  const wall = (sorted[sorted.length - 1]!.fetchableAt - sorted[0]!.fetchableAt) / 1000;
  if (wall <= 0) return null;
  const media = sorted.slice(1).reduce((s, a) => s + a.duration, 0);
  return media / wall;
}

/**
 * How far a stream has fallen behind its own real-time schedule, per arrival (ms): each part's
 * fetchable time minus the media time it completes (the parts' durations summed from the first
 * arrival on), less the smallest such lag seen up to that part. A stream that keeps up stays near
 * 0 (jitter of a part or so); one that does not grows by the missing media time. It needs no
 * clock in the picture, so it serves the copy pushers, whose pictures carry a stale one.
 */
export function behindSchedule(arrivals: readonly { fetchableAt: number; duration: number }[]): number[] {
  const out: number[] = [];
  let media = 0;
  let best = Infinity;
  for (const a of arrivals) {
    media += a.duration * 1000;
    const lag = a.fetchableAt - media;
    best = Math.min(best, lag);
    out.push(lag - best);
  }
  return out;
}
