/**
 * ISO BMFF (MP4) box reading: just enough to cut ffmpeg's fragmented-MP4 output into its
 * init segment (ftyp + moov) and fragments (moof + mdat), and to read timing from them.
 */

export interface Box {
  type: string;
  /** Offset of the box header in the buffer. */
  start: number;
  /** Offset of the payload (after size, type and any 64-bit size). */
  body: number;
  /** Offset just past the box. */
  end: number;
}

/** Header of the box at `offset`, or null when the buffer does not yet hold the whole header. */
function header(buf: Buffer, offset: number): { type: string; size: number; headerSize: number } | null {
  if (buf.length - offset < 8) return null;
  let size = buf.readUInt32BE(offset);
  const type = buf.toString('latin1', offset + 4, offset + 8);
  let headerSize = 8;
  if (size === 1) {
    if (buf.length - offset < 16) return null;
    size = Number(buf.readBigUInt64BE(offset + 8));
    headerSize = 16;
  } else if (size === 0) {
    throw new Error(`box ${type} extends to the end of the file, which a live stream does not have`);
  }
  if (size < headerSize) throw new Error(`box ${type} has an impossible size ${size}`);
  return { type, size, headerSize };
}

/** The boxes directly inside [start, end). */
export function children(buf: Buffer, start = 0, end = buf.length): Box[] {
  const out: Box[] = [];
  let at = start;
  while (at < end) {
    const h = header(buf, at);
    if (!h || at + h.size > end) throw new Error('truncated box');
    out.push({ type: h.type, start: at, body: at + h.headerSize, end: at + h.size });
    at += h.size;
  }
  return out;
}

/** First box along a path of types, e.g. ['moov', 'trak', 'mdia', 'mdhd'], searching from `within`. */
export function find(buf: Buffer, path: string[], within?: Box): Box | null {
  let scope = within ? children(buf, within.body, within.end) : children(buf);
  let found: Box | null = null;
  for (const [i, type] of path.entries()) {
    found = scope.find((b) => b.type === type) ?? null;
    if (!found) return null;
    if (i < path.length - 1) scope = children(buf, found.body, found.end);
  }
  return found;
}

export const findAll = (buf: Buffer, type: string, within: Box): Box[] => children(buf, within.body, within.end).filter((b) => b.type === type);

/**
 * Cuts a byte stream into whole top-level boxes as they complete (ffmpeg writes to a pipe in
 * arbitrary chunks). Memory held is at most one incomplete box.
 */
export class BoxSplitter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): { type: string; bytes: Buffer }[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: { type: string; bytes: Buffer }[] = [];
    let at = 0;
    for (;;) {
      const h = header(this.pending, at);
      if (!h || this.pending.length - at < h.size) break;
      out.push({ type: h.type, bytes: this.pending.subarray(at, at + h.size) });
      at += h.size;
    }
    // Copy the remainder so the boxes handed out do not pin a growing buffer.
    this.pending = at === 0 ? this.pending : Buffer.from(this.pending.subarray(at));
    return out;
  }

  /** Bytes of an incomplete box still held (non-zero at the end of a run means a cut-off box). */
  get buffered(): number {
    return this.pending.length;
  }
}
