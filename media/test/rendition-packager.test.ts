import { spawnSync } from 'node:child_process';
import { parse, setOptions, types } from 'hls-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertService, FFMPEG, ffmpegAvailable } from '../../server/test/support/services.ts';
import { parseFragment, parseInit } from '../src/hls/fmp4.ts';
import { MemoryHlsStore } from '../src/hls/memory-hls-store.ts';
import { BoxSplitter } from '../src/hls/mp4-boxes.ts';
import { RenditionPackager } from '../src/hls/rendition-packager.ts';
import { buildFfmpegArgs } from '../src/transcode/ffmpeg-args.ts';

/** 5 s of test pattern and tone, H.264 with a keyframe a second, as the transcoder writes it (fMP4 to stdout). */
function ffmpegOutput(): Buffer {
  const { args } = buildFfmpegArgs({
    input: ['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=30', '-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-t', '5'],
    codecs: { video: 'raw', audio: 'pcm' },
    ladder: [],
    partTarget: 0.333,
    keyframeInterval: 1,
  });
  // Two inputs: the builder maps 0:v and 0:a; take the tone from input 1 instead.
  const i = args.indexOf('0:a:0?');
  args[i] = '1:a:0?';
  const r = spawnSync(FFMPEG, args, { maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr.toString()}`);
  return r.stdout;
}

let fmp4: Buffer;

beforeAll(() => {
  assertService('ffmpeg', ffmpegAvailable());
  fmp4 = ffmpegOutput();
});

/** Feeds bytes in random-sized chunks, as a pipe delivers them. */
function feed(p: RenditionPackager, bytes: Buffer, seed = 7): void {
  let x = seed;
  for (let at = 0; at < bytes.length; ) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const n = 1 + (x % 7000);
    p.push(bytes.subarray(at, at + n));
    at += n;
  }
}

describe('fragmented MP4', () => {
  it('reads tracks, codecs and fragment timing from ffmpeg output', () => {
    const boxes = new BoxSplitter().push(fmp4);
    expect(boxes.slice(0, 2).map((b) => b.type)).toEqual(['ftyp', 'moov']);
    const init = parseInit(Buffer.concat([boxes[0]!.bytes, boxes[1]!.bytes]));
    expect(init.tracks.map((t) => [t.kind, t.codec])).toEqual([
      ['video', expect.stringMatching(/^avc1\.[0-9a-f]{6}$/)],
      ['audio', 'mp4a.40.2'],
    ]);
    expect(init.tracks[0]).toMatchObject({ width: 160, height: 120 });
    const frags: ReturnType<typeof parseFragment>[] = [];
    for (let i = 2; i + 1 < boxes.length; i += 2) {
      expect([boxes[i]!.type, boxes[i + 1]!.type]).toEqual(['moof', 'mdat']);
      frags.push(parseFragment(boxes[i]!.bytes, init));
    }
    const total = frags.reduce((s, f) => s + f.duration, 0);
    expect(total).toBeCloseTo(5, 1);
    expect(frags.filter((f) => f.independent).length).toBe(5); // a keyframe a second
    // Fragments without video (audio written ahead) carry no time; the others follow on without gaps.
    const timed = frags.filter((f) => !f.empty);
    expect(timed.length).toBeGreaterThan(frags.length / 2);
    for (let i = 1; i < timed.length; i++) expect(timed[i]!.start).toBeCloseTo(timed[i - 1]!.start + timed[i - 1]!.duration, 6);
  });
});

describe('rendition packager', () => {
  it('groups fragments into parts and keyframe-aligned segments, then closes as VOD', async () => {
    const store = new MemoryHlsStore();
    const errors: Error[] = [];
    const p = new RenditionPackager({ prefix: 's/source/', store, partTarget: 0.333, segmentTarget: 2, windowSegments: 0, onError: (e) => errors.push(e) });
    p.startRun();
    feed(p, fmp4);
    await p.endRun();
    const live = parse((await store.get('s/source/index.m3u8'))!.toString()) as types.MediaPlaylist;
    expect(live.endlist).toBe(false);
    await p.finish();
    expect(errors).toEqual([]);
    const text = (await store.get('s/source/index.m3u8'))!.toString();
    const pl = parse(text) as types.MediaPlaylist;
    expect(pl.endlist).toBe(true);
    expect(pl.segments.map((s) => Math.round(s.duration * 10) / 10)).toEqual([2, 2, 1]);
    expect(p.playlist.segments.every((s) => s.parts[0]!.independent)).toBe(true);
    for (const s of p.playlist.segments) {
      for (const part of s.parts.slice(0, -1)) {
        expect(part.duration).toBeGreaterThanOrEqual(0.85 * 0.333);
        expect(part.duration).toBeLessThanOrEqual(0.333);
      }
      // A segment's bytes are its parts' bytes.
      const segBytes = (await store.get(`s/source/${s.uri}`))!;
      const partBytes = await Promise.all(s.parts.map(async (x) => (await store.get(`s/source/${x.uri}`))!));
      expect(Buffer.compare(segBytes, Buffer.concat(partBytes))).toBe(0);
    }
    expect(await store.get('s/source/init0.mp4')).not.toBeNull();
    expect(p.peakBandwidth).toBeGreaterThan(0);
  });

  it('with the default 1 s segments and a keyframe a second: one keyframe-aligned segment a second, TARGETDURATION 1', async () => {
    const store = new MemoryHlsStore();
    // Every playlist version a player could fetch must be valid, including those written at a
    // segment boundary (a segment's short last part must never show up as a middle part).
    const written: string[] = [];
    const put = store.put.bind(store);
    store.put = (key: string, body: Buffer) => {
      if (key.endsWith('index.m3u8')) written.push(body.toString());
      return put(key, body);
    };
    const p = new RenditionPackager({ prefix: 'o/source/', store, partTarget: 0.333, segmentTarget: 1, windowSegments: 0, onError: (e) => expect.fail(e.message) });
    p.startRun();
    feed(p, fmp4);
    await p.endRun();
    expect(written.length).toBeGreaterThan(10);
    setOptions({ strictMode: true });
    try {
      for (const text of written) expect(() => parse(text), text).not.toThrow();
    } finally {
      setOptions({ strictMode: false });
    }
    const live = parse((await store.get('o/source/index.m3u8'))!.toString()) as types.MediaPlaylist;
    expect(live.targetDuration).toBe(1);
    expect(live.partTargetDuration).toBeCloseTo(0.333, 3);
    expect(live.lowLatencyCompatibility).toMatchObject({ canBlockReload: true });
    expect(live.lowLatencyCompatibility!.partHoldBack).toBeGreaterThanOrEqual(3 * 0.333 - 1e-9);
    await p.finish();
    const pl = parse((await store.get('o/source/index.m3u8'))!.toString()) as types.MediaPlaylist;
    expect(pl.segments.map((s) => Math.round(s.duration * 10) / 10)).toEqual([1, 1, 1, 1, 1]);
    for (const s of pl.segments) expect(Math.round(s.duration)).toBeLessThanOrEqual(pl.targetDuration);
    expect(p.playlist.segments.every((s) => s.parts[0]!.independent)).toBe(true);
    expect(p.playlist.segments.map((s) => s.parts.length)).toEqual([4, 4, 4, 4, 4]); // three of 85–100 % and a short last
  });

  it('a second run starts a new init and a discontinuity; a window drops old segments', async () => {
    const store = new MemoryHlsStore();
    const p = new RenditionPackager({ prefix: 'w/x/', store, partTarget: 0.333, segmentTarget: 2, windowSegments: 4, onError: (e) => expect.fail(e.message) });
    p.startRun();
    feed(p, fmp4, 1);
    await p.endRun();
    p.startRun();
    feed(p, fmp4, 2);
    await p.endRun();
    const pl = parse((await store.get('w/x/index.m3u8'))!.toString()) as types.MediaPlaylist;
    const complete = pl.segments.filter((s) => s.uri);
    expect(complete.map((s) => s.mediaSequenceNumber)).toEqual([2, 3, 4, 5]);
    expect(complete.map((s) => s.map!.uri)).toEqual(['init0.mp4', 'init1.mp4', 'init1.mp4', 'init1.mp4']);
    expect(complete.map((s) => s.discontinuity ?? false)).toEqual([false, true, false, false]);
    expect(await store.get('w/x/seg1.m4s')).toBeNull(); // slid out of the window
    expect(await store.get('w/x/init1.mp4')).not.toBeNull();
  });
});
