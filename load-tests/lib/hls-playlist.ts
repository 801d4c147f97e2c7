/**
 * Just enough HLS (RFC 8216 and Apple's Low-Latency HLS) for a load-test viewer: parse a
 * multivariant or media playlist, say what a player would fetch next (init section, new parts or
 * segments) and where a blocking playlist reload (`_HLS_msn`/`_HLS_part`) should wait. Pure string
 * work (k6 has no URL global), so vitest covers it.
 */

export interface Variant {
  uri: string;
  bandwidth: number;
}

export interface MultivariantPlaylist {
  kind: 'multivariant';
  variants: Variant[];
}

export interface Part {
  uri: string;
  duration: number;
  independent: boolean;
}

export interface Segment {
  /** Media sequence number. */
  msn: number;
  uri: string;
  duration: number;
  /** LL-HLS parts of this segment (may be empty once they leave the playlist). */
  parts: Part[];
}

export interface MediaPlaylist {
  kind: 'media';
  targetDuration: number;
  mediaSequence: number;
  /** EXT-X-MAP: the fMP4 init section. */
  map: string | null;
  /** EXT-X-PART-INF PART-TARGET (seconds); null when the playlist is not low-latency. */
  partTarget: number | null;
  canBlockReload: boolean;
  segments: Segment[];
  /** Parts of the segment still being written (after the last EXTINF). */
  pendingParts: Part[];
  preloadHint: string | null;
  ended: boolean;
}

export type Playlist = MultivariantPlaylist | MediaPlaylist;

export class PlaylistError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlaylistError';
  }
}

/** `KEY=value,KEY="quoted, value"` → { KEY: 'value', … } */
export function parseAttributes(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Z0-9-]+)=("[^"]*"|[^,]*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(list)) !== null) {
    const v = m[2]!;
    out[m[1]!] = v.charAt(0) === '"' ? v.slice(1, -1) : v;
  }
  return out;
}

function attrs(line: string): Record<string, string> {
  return parseAttributes(line.slice(line.indexOf(':') + 1));
}

function num(value: string | undefined, what: string): number {
  const n = Number(value);
  if (value === undefined || value === '' || !Number.isFinite(n)) throw new PlaylistError(`${what}: not a number (${String(value)})`);
  return n;
}

export function parsePlaylist(text: string): Playlist {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (lines[0] !== '#EXTM3U') throw new PlaylistError('not a playlist: the first line is not #EXTM3U');
  if (lines.some((l) => l.startsWith('#EXT-X-STREAM-INF:'))) return parseMultivariant(lines);
  return parseMedia(lines);
}

function parseMultivariant(lines: string[]): MultivariantPlaylist {
  const variants: Variant[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.startsWith('#EXT-X-STREAM-INF:')) continue;
    const uri = lines[i + 1];
    if (uri === undefined || uri.startsWith('#')) throw new PlaylistError('EXT-X-STREAM-INF without a URI line');
    variants.push({ uri, bandwidth: num(attrs(line).BANDWIDTH, 'BANDWIDTH') });
  }
  return { kind: 'multivariant', variants };
}

function parseMedia(lines: string[]): MediaPlaylist {
  const p: MediaPlaylist = {
    kind: 'media',
    targetDuration: NaN,
    mediaSequence: 0,
    map: null,
    partTarget: null,
    canBlockReload: false,
    segments: [],
    pendingParts: [],
    preloadHint: null,
    ended: false,
  };
  let duration: number | null = null;
  let parts: Part[] = [];
  for (const line of lines) {
    if (line.startsWith('#EXT-X-TARGETDURATION:')) p.targetDuration = num(line.slice(22), 'EXT-X-TARGETDURATION');
    else if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) p.mediaSequence = num(line.slice(22), 'EXT-X-MEDIA-SEQUENCE');
    else if (line.startsWith('#EXT-X-MAP:')) p.map = attrs(line).URI ?? null;
    else if (line.startsWith('#EXT-X-PART-INF:')) p.partTarget = num(attrs(line)['PART-TARGET'], 'PART-TARGET');
    else if (line.startsWith('#EXT-X-SERVER-CONTROL:')) p.canBlockReload = attrs(line)['CAN-BLOCK-RELOAD'] === 'YES';
    else if (line.startsWith('#EXT-X-PART:')) {
      const a = attrs(line);
      if (!a.URI) throw new PlaylistError('EXT-X-PART without URI');
      parts.push({ uri: a.URI, duration: num(a.DURATION, 'EXT-X-PART DURATION'), independent: a.INDEPENDENT === 'YES' });
    } else if (line.startsWith('#EXT-X-PRELOAD-HINT:')) {
      const a = attrs(line);
      if (a.TYPE === 'PART' && a.URI) p.preloadHint = a.URI;
    } else if (line.startsWith('#EXTINF:')) duration = num(line.slice(8).split(',')[0], 'EXTINF');
    else if (line === '#EXT-X-ENDLIST') p.ended = true;
    else if (!line.startsWith('#')) {
      if (duration === null) throw new PlaylistError(`segment ${line} without EXTINF`);
      p.segments.push({ msn: p.mediaSequence + p.segments.length, uri: line, duration, parts });
      duration = null;
      parts = [];
    }
  }
  if (!Number.isFinite(p.targetDuration)) throw new PlaylistError('media playlist without EXT-X-TARGETDURATION');
  p.pendingParts = parts;
  return p;
}

/**
 * Where the next blocking reload should wait: the part after the newest one listed (LL-HLS), or
 * the segment after the newest one. null when the server cannot block or the stream ended.
 */
export function nextReload(p: MediaPlaylist): { msn: number; part?: number } | null {
  if (!p.canBlockReload || p.ended) return null;
  const nextMsn = p.mediaSequence + p.segments.length;
  if (p.partTarget !== null) return { msn: nextMsn, part: p.pendingParts.length };
  return { msn: nextMsn };
}

export function reloadQuery(r: { msn: number; part?: number }): string {
  return r.part === undefined ? `_HLS_msn=${r.msn}` : `_HLS_msn=${r.msn}&_HLS_part=${r.part}`;
}

/** What a viewer has fetched so far. */
export interface ViewerState {
  seen: Record<string, true>;
  started: boolean;
}

export const newViewerState = (): ViewerState => ({ seen: {}, started: false });

/**
 * URIs (relative, as listed) a player fetches after this playlist load: the init section once,
 * then every new part (LL-HLS) or segment. The first load starts at the live edge (the newest
 * segment and its parts), the way players join a live stream, instead of downloading the window.
 */
export function mediaToFetch(p: MediaPlaylist, state: ViewerState): string[] {
  const lowLatency = p.partTarget !== null;
  const items: string[] = [];
  for (const s of p.segments) {
    if (lowLatency && s.parts.length > 0) for (const part of s.parts) items.push(part.uri);
    else items.push(s.uri);
  }
  for (const part of p.pendingParts) items.push(part.uri);
  if (!state.started) {
    state.started = true;
    const edge = lowLatency ? liveEdgeLowLatency(p) : p.segments.slice(-1).map((s) => s.uri);
    for (const uri of items) if (edge.indexOf(uri) === -1) state.seen[uri] = true;
  }
  const out: string[] = [];
  if (p.map !== null && !state.seen[p.map]) out.push(p.map);
  for (const uri of items) if (!state.seen[uri]) out.push(uri);
  for (const uri of out) state.seen[uri] = true;
  return out;
}

function liveEdgeLowLatency(p: MediaPlaylist): string[] {
  const last = p.segments[p.segments.length - 1];
  const fromLast = last ? (last.parts.length > 0 ? last.parts.map((x) => x.uri) : [last.uri]) : [];
  return [...fromLast, ...p.pendingParts.map((x) => x.uri)];
}

/** Resolves a playlist entry against the playlist's URL (absolute URIs pass through). */
export function resolveUri(playlistUrl: string, uri: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) return uri;
  const noQuery = playlistUrl.split('?')[0]!;
  if (uri.startsWith('/')) return noQuery.replace(/^([a-z]+:\/\/[^/]+).*$/i, '$1') + uri;
  return noQuery.slice(0, noQuery.lastIndexOf('/') + 1) + uri;
}
