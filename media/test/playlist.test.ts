import { parse, types } from 'hls-parser';
import { describe, expect, it } from 'vitest';
import { lastMsn, playlistHas, renderMediaPlaylist, renderMultivariantPlaylist, type MediaPlaylist, type Segment } from '../src/hls/playlist.ts';

const parts = (msn: number, n: number, d = 0.3) =>
  Array.from({ length: n }, (_, i) => ({ uri: `seg${msn}.${i}.m4s`, duration: d, independent: i === 0 }));

const seg = (msn: number, over: Partial<Segment> = {}): Segment => ({
  msn,
  uri: `seg${msn}.m4s`,
  duration: 1.8,
  map: 'init0.mp4',
  discontinuity: false,
  parts: parts(msn, 6),
  ...over,
});

const live = (over: Partial<MediaPlaylist> = {}): MediaPlaylist => ({
  targetDuration: 2,
  partTarget: 0.333,
  discontinuitySequence: 0,
  segments: [seg(0), seg(1), seg(2), seg(3)],
  open: { msn: 4, map: 'init0.mp4', discontinuity: false, parts: parts(4, 2) },
  preloadHint: 'seg4.2.m4s',
  ended: false,
  partWindowSeconds: 6,
  ...over,
});

describe('media playlist', () => {
  it('renders LL-HLS: server control, part info, parts near the edge only, the preload hint', () => {
    const text = renderMediaPlaylist(live());
    expect(text).toContain('#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.999\n');
    expect(text).toContain('#EXT-X-PART-INF:PART-TARGET=0.33300\n');
    expect(text.endsWith('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg4.2.m4s"\n')).toBe(true);
    expect(text).not.toContain('seg0.0.m4s'); // older than the part window
    expect(text).not.toContain('seg1.0.m4s'); // at most two complete segments keep parts
    expect(text).toContain('#EXT-X-PART:DURATION=0.30000,URI="seg2.0.m4s",INDEPENDENT=YES\n');
    expect(text.match(/#EXT-X-MAP/g)).toHaveLength(1);
    const pl = parse(text) as types.MediaPlaylist;
    expect(pl.mediaSequenceBase).toBe(0);
    expect(pl.segments.map((s) => s.uri)).toEqual(['seg0.m4s', 'seg1.m4s', 'seg2.m4s', 'seg3.m4s', '']);
    expect(pl.segments[4]!.parts.map((p) => [p.uri, p.hint ?? false])).toEqual([
      ['seg4.0.m4s', false],
      ['seg4.1.m4s', false],
      ['seg4.2.m4s', true],
    ]);
    expect(pl.lowLatencyCompatibility).toMatchObject({ canBlockReload: true, partHoldBack: 0.999 });
  });

  it('marks a restart with a discontinuity and the new init, and counts discontinuities that slid out', () => {
    const text = renderMediaPlaylist(
      live({ segments: [seg(7, { discontinuity: true, map: 'init1.mp4' }), seg(8), seg(9, { discontinuity: true, map: 'init2.mp4' })], discontinuitySequence: 3, open: null, preloadHint: 'seg10.0.m4s' }),
    );
    expect(text).toContain('#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-DISCONTINUITY-SEQUENCE:3\n#EXT-X-MAP:URI="init1.mp4"\n');
    expect(text.match(/#EXT-X-DISCONTINUITY\n/g)).toHaveLength(1); // not before the first segment
    expect(text).toContain('#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init2.mp4"\n');
    const pl = parse(text) as types.MediaPlaylist;
    expect(pl.segments.slice(0, 3).map((s) => s.discontinuity ?? false)).toEqual([false, false, true]);
    expect(pl.segments.slice(0, 3).map((s) => s.discontinuitySequence)).toEqual([3, 3, 4]);
    expect(pl.segments[2]!.map!.uri).toBe('init2.mp4');
  });

  it('closes with ENDLIST as VOD: no parts, no hint, no blocking', () => {
    const text = renderMediaPlaylist(live({ ended: true, open: null, preloadHint: null }));
    expect(text.endsWith('seg3.m4s\n#EXT-X-ENDLIST\n')).toBe(true);
    expect(text).toContain('#EXT-X-PLAYLIST-TYPE:VOD\n');
    expect(text).not.toMatch(/EXT-X-PART:|PRELOAD-HINT|SERVER-CONTROL/);
    const pl = parse(text) as types.MediaPlaylist;
    expect(pl.endlist).toBe(true);
    expect(pl.segments).toHaveLength(4);
  });

  it('knows when a blocking request is satisfied', () => {
    const p = live();
    expect(playlistHas(p, 3, null)).toBe(true);
    expect(playlistHas(p, 4, null)).toBe(false); // segment 4 is still being built
    expect(playlistHas(p, 4, 1)).toBe(true);
    expect(playlistHas(p, 4, 2)).toBe(false);
    expect(playlistHas(p, 5, 0)).toBe(false);
    expect(playlistHas({ ...p, ended: true }, 99, 0)).toBe(true);
    expect(lastMsn(p)).toBe(4);
    expect(lastMsn({ ...p, open: null })).toBe(3);
  });
});

describe('multivariant playlist', () => {
  it('lists renditions with bandwidth, codecs and resolution', () => {
    const text = renderMultivariantPlaylist([
      { uri: 'source/index.m3u8', bandwidth: 2_400_000.4, averageBandwidth: 2_000_000, codecs: ['avc1.64001f', 'mp4a.40.2'], resolution: { width: 1280, height: 720 } },
      { uri: '360p/index.m3u8', bandwidth: 800_000, codecs: ['avc1.4d401e', 'mp4a.40.2'] },
    ]);
    const pl = parse(text) as types.MasterPlaylist;
    expect(pl.isMasterPlaylist).toBe(true);
    expect(pl.variants.map((v) => [v.uri, v.bandwidth, v.averageBandwidth, v.codecs])).toEqual([
      ['source/index.m3u8', 2_400_000, 2_000_000, 'avc1.64001f,mp4a.40.2'],
      ['360p/index.m3u8', 800_000, undefined, 'avc1.4d401e,mp4a.40.2'],
    ]);
    expect(pl.variants[0]!.resolution).toEqual({ width: 1280, height: 720 });
  });
});
