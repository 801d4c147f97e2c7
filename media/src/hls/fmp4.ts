import { children, find, findAll, type Box } from './mp4-boxes.ts';

/** What the packager needs from an init segment (ftyp + moov). */
export interface TrackInfo {
  id: number;
  kind: 'video' | 'audio' | 'other';
  timescale: number;
  /** RFC 6381 codec string for the CODECS attribute, e.g. avc1.64001f or mp4a.40.2. */
  codec: string | null;
  width?: number;
  height?: number;
  /** Defaults from moov/mvex/trex, used when a fragment leaves them out. */
  defaultDuration: number;
  defaultFlags: number;
}

export interface InitInfo {
  tracks: TrackInfo[];
}

/** Timing of one fragment (moof + mdat), measured on the reference track (video when present). */
export interface FragmentInfo {
  /** Decode time of the first sample, in seconds. */
  start: number;
  /** Sum of the sample durations, in seconds. */
  duration: number;
  /** Starts with a sync sample (a keyframe): a player can begin decoding here. */
  independent: boolean;
  /** No samples of the reference track (e.g. audio written ahead of the next video frame). */
  empty: boolean;
}

const SAMPLE_IS_NON_SYNC = 0x10000;

function fullBoxFlags(buf: Buffer, box: Box): { version: number; flags: number } {
  return { version: buf[box.body]!, flags: buf.readUIntBE(box.body + 1, 3) };
}

function codecOf(buf: Buffer, stsd: Box): string | null {
  // stsd: full box header (4) + entry count (4), then sample entries.
  const entries = children(buf, stsd.body + 8, stsd.end);
  const entry = entries[0];
  if (!entry) return null;
  if (entry.type === 'avc1' || entry.type === 'avc3') {
    // VisualSampleEntry: 8 (SampleEntry) + 70 bytes before its child boxes.
    const avcC = children(buf, entry.body + 78, entry.end).find((b) => b.type === 'avcC');
    if (!avcC) return entry.type;
    const hex = (i: number) => buf[avcC.body + i]!.toString(16).padStart(2, '0');
    return `${entry.type}.${hex(1)}${hex(2)}${hex(3)}`;
  }
  if (entry.type === 'mp4a') {
    // AudioSampleEntry: 8 + 20 bytes, then esds; the object type is in the DecoderConfigDescriptor.
    const esds = children(buf, entry.body + 28, entry.end).find((b) => b.type === 'esds');
    const audioObjectType = esds ? aacObjectType(buf.subarray(esds.body + 4, esds.end)) : null;
    return `mp4a.40.${audioObjectType ?? 2}`;
  }
  return entry.type;
}

/** AAC audio object type from an ES descriptor (tag 3 → 4 → 5, DecoderSpecificInfo's first 5 bits). */
function aacObjectType(d: Buffer): number | null {
  let at = 0;
  const readDescriptor = (): { tag: number; len: number } | null => {
    if (at >= d.length) return null;
    const tag = d[at++]!;
    let len = 0;
    for (let i = 0; i < 4 && at < d.length; i++) {
      const b = d[at++]!;
      len = (len << 7) | (b & 0x7f);
      if (!(b & 0x80)) break;
    }
    return { tag, len };
  };
  const es = readDescriptor();
  if (es?.tag !== 3) return null;
  const flags = d[at + 2]!;
  at += 3 + (flags & 0x80 ? 2 : 0) + (flags & 0x20 ? 1 + d[at + 3]! : 0) + (flags & 0x40 ? 2 : 0);
  const dc = readDescriptor();
  if (dc?.tag !== 4) return null;
  at += 13;
  const dsi = readDescriptor();
  if (dsi?.tag !== 5 || at >= d.length) return null;
  return d[at]! >> 3;
}

export function parseInit(buf: Buffer): InitInfo {
  const moov = find(buf, ['moov']);
  if (!moov) throw new Error('init segment without moov');
  const trex = new Map<number, { duration: number; flags: number }>();
  const mvex = find(buf, ['mvex'], moov);
  for (const t of mvex ? findAll(buf, 'trex', mvex) : []) {
    trex.set(buf.readUInt32BE(t.body + 4), { duration: buf.readUInt32BE(t.body + 12), flags: buf.readUInt32BE(t.body + 20) });
  }
  const tracks = findAll(buf, 'trak', moov).map((trak): TrackInfo => {
    const tkhd = find(buf, ['tkhd'], trak)!;
    const v = buf[tkhd.body]!;
    const id = buf.readUInt32BE(tkhd.body + (v === 1 ? 20 : 12));
    const mdhd = find(buf, ['mdia', 'mdhd'], trak)!;
    const timescale = buf.readUInt32BE(mdhd.body + (buf[mdhd.body] === 1 ? 20 : 12));
    const hdlr = find(buf, ['mdia', 'hdlr'], trak)!;
    const handler = buf.toString('latin1', hdlr.body + 8, hdlr.body + 12);
    const stsd = find(buf, ['mdia', 'minf', 'stbl', 'stsd'], trak);
    const kind = handler === 'vide' ? 'video' : handler === 'soun' ? 'audio' : 'other';
    const defaults = trex.get(id) ?? { duration: 0, flags: 0 };
    const info: TrackInfo = { id, kind, timescale, codec: stsd ? codecOf(buf, stsd) : null, defaultDuration: defaults.duration, defaultFlags: defaults.flags };
    if (kind === 'video') {
      // tkhd ends with width and height as 16.16 fixed point.
      info.width = buf.readUInt32BE(tkhd.end - 8) >>> 16;
      info.height = buf.readUInt32BE(tkhd.end - 4) >>> 16;
    }
    return info;
  });
  return { tracks };
}

/** The track whose samples time parts and segments: video when there is one. */
export const referenceTrack = (init: InitInfo): TrackInfo | undefined => init.tracks.find((t) => t.kind === 'video') ?? init.tracks[0];

export function parseFragment(buf: Buffer, init: InitInfo): FragmentInfo {
  const moof = find(buf, ['moof']);
  if (!moof) throw new Error('fragment without moof');
  const ref = referenceTrack(init);
  if (!ref) throw new Error('init segment without tracks');
  for (const traf of findAll(buf, 'traf', moof)) {
    const tfhd = find(buf, ['tfhd'], traf)!;
    if (buf.readUInt32BE(tfhd.body + 4) !== ref.id) continue;
    const hf = fullBoxFlags(buf, tfhd).flags;
    let at = tfhd.body + 8;
    if (hf & 0x1) at += 8; // base data offset
    if (hf & 0x2) at += 4; // sample description index
    let defaultDuration = ref.defaultDuration;
    let defaultFlags = ref.defaultFlags;
    if (hf & 0x8) {
      defaultDuration = buf.readUInt32BE(at);
      at += 4;
    }
    if (hf & 0x10) at += 4; // default sample size
    if (hf & 0x20) defaultFlags = buf.readUInt32BE(at);

    const tfdt = find(buf, ['tfdt'], traf);
    let decodeTime = 0;
    if (tfdt) decodeTime = buf[tfdt.body] === 1 ? Number(buf.readBigUInt64BE(tfdt.body + 4)) : buf.readUInt32BE(tfdt.body + 4);

    let ticks = 0;
    let firstFlags: number | null = null;
    for (const trun of findAll(buf, 'trun', traf)) {
      const tf = fullBoxFlags(buf, trun).flags;
      const count = buf.readUInt32BE(trun.body + 4);
      let p = trun.body + 8;
      if (tf & 0x1) p += 4; // data offset
      let firstSampleFlags: number | null = null;
      if (tf & 0x4) {
        firstSampleFlags = buf.readUInt32BE(p);
        p += 4;
      }
      for (let i = 0; i < count; i++) {
        let duration = defaultDuration;
        let flags = defaultFlags;
        if (tf & 0x100) {
          duration = buf.readUInt32BE(p);
          p += 4;
        }
        if (tf & 0x200) p += 4; // size
        if (tf & 0x400) {
          flags = buf.readUInt32BE(p);
          p += 4;
        }
        if (tf & 0x800) p += 4; // composition time offset
        if (i === 0 && firstSampleFlags !== null) flags = firstSampleFlags;
        firstFlags ??= flags;
        ticks += duration;
      }
    }
    const independent = ref.kind !== 'video' || (firstFlags !== null && (firstFlags & SAMPLE_IS_NON_SYNC) === 0);
    return { start: decodeTime / ref.timescale, duration: ticks / ref.timescale, independent, empty: firstFlags === null };
  }
  // The reference track has no samples in this fragment (e.g. audio ran ahead): it adds no time.
  return { start: 0, duration: 0, independent: false, empty: true };
}
