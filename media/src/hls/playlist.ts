/**
 * Pure HLS playlist writers (RFC 8216bis with Apple's Low-Latency extensions). The packager keeps
 * a MediaPlaylist model; these functions only render it.
 */

export interface Part {
  uri: string;
  duration: number;
  independent: boolean;
}

export interface Segment {
  msn: number;
  uri: string;
  duration: number;
  /** The init segment (EXT-X-MAP) its fragments need. */
  map: string;
  /** First segment after an ffmpeg restart: timestamps and init may change. */
  discontinuity: boolean;
  /** Listed only for the last few segments (older parts are not announced any more). */
  parts: Part[];
}

export interface MediaPlaylist {
  /** EXT-X-TARGETDURATION, whole seconds, never below any segment's rounded duration. */
  targetDuration: number;
  partTarget: number;
  /** Discontinuities that slid out of the window (EXT-X-DISCONTINUITY-SEQUENCE). */
  discontinuitySequence: number;
  segments: Segment[];
  /** The segment being built: its parts so far (it has no URI until it is complete). */
  open: { msn: number; map: string; discontinuity: boolean; parts: Part[] } | null;
  /** URI of the part that will come next (EXT-X-PRELOAD-HINT); none once ended. */
  preloadHint: string | null;
  ended: boolean;
  /** Parts are announced for the segments that start within this many seconds of the live edge (the spec: three target durations). */
  partWindowSeconds: number;
}

const fixed = (n: number, digits: number): string => n.toFixed(digits);

function partLine(p: Part): string {
  return `#EXT-X-PART:DURATION=${fixed(p.duration, 5)},URI="${p.uri}"${p.independent ? ',INDEPENDENT=YES' : ''}`;
}

export function renderMediaPlaylist(p: MediaPlaylist): string {
  const first = p.segments[0]?.msn ?? p.open?.msn ?? 0;
  const lines = ['#EXTM3U', '#EXT-X-VERSION:9', `#EXT-X-TARGETDURATION:${p.targetDuration}`];
  if (!p.ended) {
    // Three part targets behind the live edge is the least the LL-HLS spec allows.
    lines.push(`#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${fixed(p.partTarget * 3, 3)}`);
  } else {
    lines.push('#EXT-X-PLAYLIST-TYPE:VOD');
  }
  lines.push(`#EXT-X-PART-INF:PART-TARGET=${fixed(p.partTarget, 5)}`, `#EXT-X-MEDIA-SEQUENCE:${first}`);
  if (p.discontinuitySequence > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${p.discontinuitySequence}`);

  // Parts are listed for the segments near the live edge only.
  let tail = p.open ? p.open.parts.reduce((s, x) => s + x.duration, 0) : 0;
  const withParts = new Set<number>();
  // Also never more than the last three entries (two complete segments and the one being built):
  // validators count entries, and short segments after a restart would otherwise all keep parts.
  const maxComplete = p.open || p.preloadHint ? 2 : 3;
  for (let i = p.segments.length - 1; i >= 0 && !p.ended && withParts.size < maxComplete; i--) {
    tail += p.segments[i]!.duration;
    if (tail > p.partWindowSeconds) break;
    withParts.add(p.segments[i]!.msn);
  }

  let map: string | null = null;
  const mapLine = (uri: string) => {
    if (uri !== map) lines.push(`#EXT-X-MAP:URI="${uri}"`);
    map = uri;
  };
  for (const s of p.segments) {
    if (s.discontinuity && s !== p.segments[0]) lines.push('#EXT-X-DISCONTINUITY');
    mapLine(s.map);
    if (withParts.has(s.msn)) for (const part of s.parts) lines.push(partLine(part));
    lines.push(`#EXTINF:${fixed(s.duration, 5)},`, s.uri);
  }
  if (p.open && !p.ended) {
    if (p.open.discontinuity && p.segments.length > 0) lines.push('#EXT-X-DISCONTINUITY');
    if (p.open.parts.length > 0 || p.segments.length === 0 || p.open.discontinuity) mapLine(p.open.map);
    for (const part of p.open.parts) lines.push(partLine(part));
  }
  if (p.preloadHint && !p.ended) lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${p.preloadHint}"`);
  if (p.ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

export interface Variant {
  uri: string;
  /** Peak bits per second over the segments so far. */
  bandwidth: number;
  averageBandwidth?: number;
  codecs: string[];
  resolution?: { width: number; height: number };
  frameRate?: number;
}

export function renderMultivariantPlaylist(variants: Variant[]): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:9', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const v of variants) {
    const attrs = [`BANDWIDTH=${Math.round(v.bandwidth)}`];
    if (v.averageBandwidth) attrs.push(`AVERAGE-BANDWIDTH=${Math.round(v.averageBandwidth)}`);
    if (v.codecs.length) attrs.push(`CODECS="${v.codecs.join(',')}"`);
    if (v.resolution) attrs.push(`RESOLUTION=${v.resolution.width}x${v.resolution.height}`);
    if (v.frameRate) attrs.push(`FRAME-RATE=${v.frameRate.toFixed(3)}`);
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, v.uri);
  }
  return `${lines.join('\n')}\n`;
}

/** Where a blocking playlist request (`_HLS_msn`, `_HLS_part`) is satisfied. */
export function playlistHas(p: MediaPlaylist, msn: number, part: number | null): boolean {
  if (p.ended) return true;
  const lastComplete = p.segments.length ? p.segments[p.segments.length - 1]!.msn : -1;
  if (part === null) return msn <= lastComplete;
  if (msn <= lastComplete) return true;
  return p.open !== null && msn === p.open.msn && part < p.open.parts.length;
}

/** The msn a client may wait for at most: the spec answers 400 beyond the last segment plus two. */
export function lastMsn(p: MediaPlaylist): number {
  return p.open?.msn ?? (p.segments.length ? p.segments[p.segments.length - 1]!.msn : 0);
}
