import { describe, expect, it } from 'vitest';
import { mediaToFetch, newViewerState, nextReload, parseAttributes, parsePlaylist, PlaylistError, reloadQuery, resolveUri, type MediaPlaylist } from '../lib/hls-playlist.ts';

// Shaped like Apple's LL-HLS examples (RFC 8216bis and the "Enabling Low-Latency HLS" guide).
const LL = `#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:2
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0
#EXT-X-PART-INF:PART-TARGET=0.333
#EXT-X-MEDIA-SEQUENCE:266
#EXT-X-MAP:URI="init.mp4"
#EXTINF:2.000,
seg266.m4s
#EXT-X-PART:DURATION=0.333,URI="seg267.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.333,URI="seg267.1.m4s"
#EXT-X-PART:DURATION=0.333,URI="seg267.2.m4s"
#EXT-X-PART:DURATION=0.333,URI="seg267.3.m4s"
#EXT-X-PART:DURATION=0.333,URI="seg267.4.m4s"
#EXT-X-PART:DURATION=0.333,URI="seg267.5.m4s"
#EXTINF:2.000,
seg267.m4s
#EXT-X-PART:DURATION=0.333,URI="seg268.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.333,URI="seg268.1.m4s"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg268.2.m4s"
`;

const CLASSIC = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:10
#EXTINF:4.0,
a10.ts
#EXTINF:4.0,
a11.ts
#EXTINF:3.5,
a12.ts
#EXT-X-ENDLIST
`;

const MULTI = `#EXTM3U
#EXT-X-STREAM-INF:BANDWIDTH=2500000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2"
source/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.4d401e,mp4a.40.2"
360p/index.m3u8
`;

const media = (text: string) => parsePlaylist(text) as MediaPlaylist;

describe('hls-playlist', () => {
  it('parses attribute lists with quoted commas', () => {
    expect(parseAttributes('BANDWIDTH=1,CODECS="a,b",URI="x.m4s"')).toEqual({ BANDWIDTH: '1', CODECS: 'a,b', URI: 'x.m4s' });
  });

  it('parses a multivariant playlist', () => {
    expect(parsePlaylist(MULTI)).toEqual({
      kind: 'multivariant',
      variants: [
        { uri: 'source/index.m3u8', bandwidth: 2500000 },
        { uri: '360p/index.m3u8', bandwidth: 800000 },
      ],
    });
  });

  it('parses a low-latency media playlist: segments with their parts, pending parts, preload hint', () => {
    const p = media(LL);
    expect(p).toMatchObject({ targetDuration: 2, mediaSequence: 266, map: 'init.mp4', partTarget: 0.333, canBlockReload: true, preloadHint: 'seg268.2.m4s', ended: false });
    expect(p.segments.map((s) => [s.msn, s.uri, s.parts.length])).toEqual([
      [266, 'seg266.m4s', 0],
      [267, 'seg267.m4s', 6],
    ]);
    expect(p.pendingParts.map((x) => x.uri)).toEqual(['seg268.0.m4s', 'seg268.1.m4s']);
    expect(p.segments[1]!.parts[0]!.independent).toBe(true);
  });

  it('asks a blocking reload for the next part (LL-HLS) or the next segment, and none for VOD', () => {
    expect(nextReload(media(LL))).toEqual({ msn: 268, part: 2 });
    expect(reloadQuery({ msn: 268, part: 2 })).toBe('_HLS_msn=268&_HLS_part=2');
    const blockingClassic = media(CLASSIC.replace('#EXT-X-ENDLIST\n', '').replace('#EXT-X-TARGETDURATION:4', '#EXT-X-TARGETDURATION:4\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES'));
    expect(nextReload(blockingClassic)).toEqual({ msn: 13 });
    expect(reloadQuery({ msn: 13 })).toBe('_HLS_msn=13');
    expect(nextReload(media(CLASSIC))).toBeNull();
    expect(nextReload(media(CLASSIC.replace('#EXT-X-ENDLIST\n', '')))).toBeNull();
  });

  it('joins at the live edge, fetches the init section once, then only what is new', () => {
    const state = newViewerState();
    expect(mediaToFetch(media(LL), state)).toEqual(['init.mp4', ...[0, 1, 2, 3, 4, 5].map((i) => `seg267.${i}.m4s`), 'seg268.0.m4s', 'seg268.1.m4s']);
    // The next reload: part 2 arrived, segment 266 left the window.
    const next = LL.replace('#EXT-X-MEDIA-SEQUENCE:266', '#EXT-X-MEDIA-SEQUENCE:267')
      .replace('#EXTINF:2.000,\nseg266.m4s\n', '')
      .replace('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg268.2.m4s"', '#EXT-X-PART:DURATION=0.333,URI="seg268.2.m4s"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg268.3.m4s"');
    expect(mediaToFetch(media(next), state)).toEqual(['seg268.2.m4s']);
    expect(mediaToFetch(media(next), state)).toEqual([]);
  });

  it('fetches whole segments from a classic playlist, starting with the newest', () => {
    const state = newViewerState();
    const live = CLASSIC.replace('#EXT-X-ENDLIST\n', '');
    expect(mediaToFetch(media(live), state)).toEqual(['a12.ts']);
    expect(mediaToFetch(media(`${live}#EXTINF:4.0,\na13.ts\n`), state)).toEqual(['a13.ts']);
  });

  it('resolves entries against the playlist URL', () => {
    const base = 'https://cdn.example/hls/42/source/index.m3u8?_HLS_msn=3';
    expect(resolveUri(base, 'seg1.m4s')).toBe('https://cdn.example/hls/42/source/seg1.m4s');
    expect(resolveUri('https://cdn.example/hls/42/index.m3u8', 'source/index.m3u8')).toBe('https://cdn.example/hls/42/source/index.m3u8');
    expect(resolveUri(base, '/hls/42/init.mp4')).toBe('https://cdn.example/hls/42/init.mp4');
    expect(resolveUri(base, 'https://other.example/x.m4s')).toBe('https://other.example/x.m4s');
  });

  it('refuses what is not a playlist', () => {
    expect(() => parsePlaylist('<html>502 Bad Gateway</html>')).toThrow(PlaylistError);
    expect(() => parsePlaylist('#EXTM3U\n#EXTINF:2,\nseg.ts\n')).toThrow(/TARGETDURATION/);
    expect(() => parsePlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:2\nseg.ts\n')).toThrow(/without EXTINF/);
    expect(() => parsePlaylist('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n')).toThrow(/without a URI/);
  });
});
