import { EventEmitter } from 'node:events';
import { parseFragment, parseInit, type InitInfo } from './fmp4.ts';
import type { HlsStore } from './hls-store.ts';
import { BoxSplitter } from './mp4-boxes.ts';
import { renderMediaPlaylist, type MediaPlaylist, type Part } from './playlist.ts';

export const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';
export const MP4_TYPE = 'video/mp4';

export interface RenditionOptions {
  /** Store path prefix of this rendition, e.g. `123/source/`. */
  prefix: string;
  store: HlsStore;
  /** Seconds; ffmpeg cuts fragments a little shorter than this. */
  partTarget: number;
  /** Seconds; segments close at the first keyframe at or after this. */
  segmentTarget: number;
  /** Segments kept in the playlist; 0 keeps all (the whole broadcast plays as VOD afterwards). */
  windowSegments: number;
  onError: (err: Error) => void;
}

/** Part files of segments this far behind the newest are deleted (players fetch whole segments there). */
const KEEP_PARTS_SEGMENTS = 6;

/**
 * Low-Latency HLS from ffmpeg's fragmented MP4: the moof+mdat fragments ffmpeg writes are grouped
 * into parts (EXT-X-PART), parts into segments that start at keyframes, and the media playlist
 * is rewritten after every part. One ffmpeg process run is one "run": a restart begins a new run,
 * whose first segment carries EXT-X-DISCONTINUITY and whose init segment gets a new name.
 */
export class RenditionPackager extends EventEmitter<{ update: [] }> {
  readonly playlist: MediaPlaylist;
  init: InitInfo | null = null;
  private splitter = new BoxSplitter();
  private run = -1;
  private nextMsn = 0;
  private discontinuityNext = false;
  private openBytes: Buffer[] = [];
  /** Fragments of the part being gathered. */
  private building = { bytes: [] as Buffer[], duration: 0, independent: false, timed: false };
  private pendingPrefix: Buffer[] = [];
  private initName = '';
  private queue: Promise<void> = Promise.resolve();
  peakBandwidth = 0;
  private totalBytes = 0;
  private totalSeconds = 0;

  constructor(private readonly o: RenditionOptions) {
    super();
    this.playlist = {
      targetDuration: Math.max(1, Math.ceil(o.segmentTarget)),
      partTarget: o.partTarget,
      discontinuitySequence: 0,
      segments: [],
      open: null,
      preloadHint: null,
      ended: false,
      partWindowSeconds: 3 * Math.max(1, Math.ceil(o.segmentTarget)),
    };
  }

  get averageBandwidth(): number {
    return this.totalSeconds > 0 ? (this.totalBytes * 8) / this.totalSeconds : 0;
  }

  /** A new ffmpeg run starts writing; whatever the previous one left unfinished is closed first. */
  startRun(): void {
    this.enqueue(async () => {
      if (await this.closeOpen()) await this.writePlaylist();
      this.run++;
      this.splitter = new BoxSplitter();
      this.pendingPrefix = [];
      this.init = null;
      this.discontinuityNext = this.nextMsn > 0;
    });
  }

  push(chunk: Buffer): void {
    this.enqueue(() => this.onBytes(chunk));
  }

  /** The current run ended (ffmpeg exited): its last segment is closed with the parts it has. */
  endRun(): Promise<void> {
    return this.enqueue(async () => {
      await this.closeOpen();
      await this.writePlaylist();
    });
  }

  /** The broadcast is over: EXT-X-ENDLIST, and the playlist plays as VOD. */
  finish(): Promise<void> {
    return this.enqueue(async () => {
      await this.closeOpen();
      this.playlist.ended = true;
      this.playlist.preloadHint = null;
      await this.writePlaylist();
    });
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(fn).catch((err: unknown) => this.o.onError(err as Error));
    return this.queue;
  }

  private async onBytes(chunk: Buffer): Promise<void> {
    if (this.playlist.ended) return;
    for (const box of this.splitter.push(chunk)) {
      if (box.type === 'ftyp') {
        this.pendingPrefix = [box.bytes];
      } else if (box.type === 'moov') {
        const bytes = Buffer.concat([...this.pendingPrefix, box.bytes]);
        this.pendingPrefix = [];
        this.init = parseInit(bytes);
        this.initName = `init${this.run}.mp4`;
        await this.o.store.put(this.o.prefix + this.initName, bytes, MP4_TYPE);
      } else if (box.type === 'moof') {
        this.pendingPrefix.push(box.bytes);
      } else if (box.type === 'mdat' && this.init && this.pendingPrefix.length > 0) {
        const bytes = Buffer.concat([...this.pendingPrefix, box.bytes]);
        this.pendingPrefix = [];
        await this.onFragment(bytes);
      } else if (box.type === 'styp' || box.type === 'prft') {
        this.pendingPrefix.push(box.bytes);
      }
      // free, sidx, mfra and anything else carry nothing a player needs here.
    }
  }

  private openDuration(): number {
    return (this.playlist.open?.parts.reduce((s, p) => s + p.duration, 0) ?? 0) + this.building.duration;
  }

  /**
   * ffmpeg writes small fragments (a frame or so each, and a new one at each keyframe);
   * they are grouped into parts of 85–100 % of the part target, as the LL-HLS spec asks of every
   * part but a segment's last. A segment closes at the first keyframe past its target.
   */
  private async onFragment(bytes: Buffer): Promise<void> {
    const info = parseFragment(bytes, this.init!);
    const p = this.playlist;
    if (p.open || this.building.bytes.length) {
      const done = this.openDuration();
      const longEnough = info.independent && done >= this.o.segmentTarget - this.o.partTarget / 4;
      // Without a keyframe in time, cut anyway: EXTINF must not round above TARGETDURATION.
      const tooLong = done + info.duration > p.targetDuration + 0.49;
      if (longEnough || tooLong) {
        await this.closeOpen();
        await this.writePlaylist();
      }
    }
    if (!p.open) {
      p.open = { msn: this.nextMsn++, map: this.initName, discontinuity: this.discontinuityNext, parts: [] };
      this.discontinuityNext = false;
      this.openBytes = [];
    }
    const b = this.building;
    // A part is independent when its first video sample is a keyframe (audio may come first).
    if (!b.timed && !info.empty) {
      b.independent = info.independent;
      b.timed = true;
    }
    b.bytes.push(bytes);
    b.duration += info.duration;
    // Publish as soon as the part is long enough and one more fragment like this one would
    // overshoot the target (timestamps in whole milliseconds make "exactly the target" risky).
    const target = this.o.partTarget;
    if ((b.duration >= target * 0.85 && b.duration + info.duration > target - 0.001) || b.duration >= target) await this.publishPart();
  }

  /**
   * The fragments gathered so far become the open segment's next part; `write` publishes the
   * playlist at once (not for a segment's last part: the playlist would show it as a middle part,
   * shorter than the 85 % the spec allows, followed by a preload hint of a part that never comes).
   */
  private async publishPart(write = true): Promise<void> {
    const open = this.playlist.open;
    const b = this.building;
    if (!open || b.bytes.length === 0) return;
    const bytes = Buffer.concat(b.bytes);
    const part: Part = { uri: `seg${open.msn}.${open.parts.length}.m4s`, duration: b.duration, independent: b.independent };
    this.building = { bytes: [], duration: 0, independent: false, timed: false };
    await this.o.store.put(this.o.prefix + part.uri, bytes, MP4_TYPE);
    this.openBytes.push(bytes);
    open.parts.push(part);
    this.playlist.preloadHint = `seg${open.msn}.${open.parts.length}.m4s`;
    if (write) await this.writePlaylist();
  }

  /** Closes the open segment with the parts it has; says whether the playlist changed (the caller writes it). */
  private async closeOpen(): Promise<boolean> {
    await this.publishPart(false);
    const p = this.playlist;
    const open = p.open;
    if (!open) return false;
    p.open = null;
    p.preloadHint = null;
    if (open.parts.length === 0) return false;
    const duration = open.parts.reduce((s, x) => s + x.duration, 0);
    const bytes = Buffer.concat(this.openBytes);
    this.openBytes = [];
    const uri = `seg${open.msn}.m4s`;
    await this.o.store.put(this.o.prefix + uri, bytes, MP4_TYPE);
    p.segments.push({ msn: open.msn, uri, duration, map: open.map, discontinuity: open.discontinuity, parts: open.parts });
    if (duration > 0) {
      this.peakBandwidth = Math.max(this.peakBandwidth, (bytes.length * 8) / duration);
      this.totalBytes += bytes.length;
      this.totalSeconds += duration;
    }
    p.preloadHint = `seg${this.nextMsn}.0.m4s`;
    const old = p.segments[p.segments.length - 1 - KEEP_PARTS_SEGMENTS];
    if (old && old.parts.length) {
      const parts = old.parts;
      old.parts = [];
      await Promise.all(parts.map((x) => this.o.store.delete(this.o.prefix + x.uri)));
    }
    while (this.o.windowSegments > 0 && p.segments.length > this.o.windowSegments) {
      const gone = p.segments.shift()!;
      if (p.segments[0]?.discontinuity) p.discontinuitySequence++;
      await this.o.store.delete(this.o.prefix + gone.uri);
    }
    return true;
  }

  private async writePlaylist(): Promise<void> {
    await this.o.store.put(`${this.o.prefix}index.m3u8`, Buffer.from(renderMediaPlaylist(this.playlist)), PLAYLIST_TYPE);
    this.emit('update');
  }
}
