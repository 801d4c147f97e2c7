import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseInit, type InitInfo } from '../../media/src/hls/fmp4.ts';
import { nextReload, parsePlaylist, reloadQuery, resolveUri, type MediaPlaylist } from '../lib/hls-playlist.ts';
import { videoSampleCount, type FetchedMedia } from './live-clock.ts';
import { ClockDecoder } from './live-processes.ts';

/**
 * Viewers of one rendition's media playlist, in the harness process.
 *
 * LlViewer plays LL-HLS the way hls.js does: after one plain load it chains blocking playlist
 * reloads (`_HLS_msn`/`_HLS_part` for the part after the newest listed), and fetches every new
 * part. A part's "fetchable" time is when the reload listing it arrived (the origin answers the
 * moment the packager writes the playlist naming it). With a ClockDecoder it feeds the decoder
 * the init segment and the parts from the first independent one on, so every frame it fetched
 * gets its capture time.
 *
 * ClassicViewer is a player without LL-HLS: it reloads the plain playlist every target duration
 * (RFC 8216 §6.3.4, the playlist changes between reloads) and notes when each complete segment
 * first appears.
 */

export interface ViewedPart extends FetchedMedia {
  uri: string;
  msn: number;
  duration: number;
  independent: boolean;
}


async function get(url: string, signal: AbortSignal): Promise<Response> {
  return fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(15_000)]) });
}

/** A media playlist as a player loads it; throws on any other status or a multivariant playlist. */
async function loadMediaPlaylist(url: string, signal: AbortSignal): Promise<MediaPlaylist> {
  const res = await get(url, signal);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url} → ${res.status}: ${text.slice(0, 200)}`);
  const p = parsePlaylist(text);
  if (p.kind !== 'media') throw new Error(`${url} is not a media playlist`);
  return p;
}

/** Every part a media playlist lists, in order, with its segment number. */
function listedParts(p: MediaPlaylist): { uri: string; msn: number; duration: number; independent: boolean }[] {
  const out = [];
  for (const s of p.segments) for (const part of s.parts) out.push({ ...part, msn: s.msn });
  const openMsn = p.mediaSequence + p.segments.length;
  for (const part of p.pendingParts) out.push({ ...part, msn: openMsn });
  return out;
}

export class LlViewer {
  /** Parts that arrived after the viewer joined, in order: every one of them counts for the arrival rate. */
  readonly arrivals: ViewedPart[] = [];
  /** The parts fed to the decoder, in order (from the first independent one). */
  readonly decoded: ViewedPart[] = [];
  readonly errors: string[] = [];
  /** Segment number → when a playlist first listed it complete (EXTINF). */
  readonly segmentsSeenAt = new Map<number, number>();
  private readonly abort = new AbortController();
  private init: InitInfo | null = null;
  private feeding = false;
  private loop: Promise<void> | null = null;
  private fetchChain: Promise<void> = Promise.resolve();

  constructor(
    readonly playlistUrl: string,
    private readonly decoder: ClockDecoder | null,
  ) {
    setMaxListeners(0, this.abort.signal); // one per request in flight (reload and part fetches)
  }

  start(): void {
    this.loop = this.run().catch((err: unknown) => {
      if (!this.abort.signal.aborted) this.errors.push(`viewer stopped: ${(err as Error).message}`);
    });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    await this.fetchChain;
    await this.decoder?.stop();
  }

  private load(url: string): Promise<MediaPlaylist> {
    return loadMediaPlaylist(url, this.abort.signal);
  }

  private async run(): Promise<void> {
    let p = await this.load(this.playlistUrl);
    const seen = new Set(listedParts(p).map((x) => x.uri));
    for (const s of p.segments) this.segmentsSeenAt.set(s.msn, 0); // there before we came: no time
    while (!this.abort.signal.aborted && !p.ended) {
      const next = nextReload(p);
      if (!next) throw new Error('the playlist does not offer blocking reloads');
      let reloaded: MediaPlaylist;
      try {
        reloaded = await this.load(`${this.playlistUrl}?${reloadQuery(next)}`);
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.errors.push((err as Error).message);
        await sleep(200);
        continue;
      }
      const at = Date.now();
      p = reloaded;
      for (const s of p.segments) if (!this.segmentsSeenAt.has(s.msn)) this.segmentsSeenAt.set(s.msn, at);
      for (const part of listedParts(p)) {
        if (seen.has(part.uri)) continue;
        seen.add(part.uri);
        const viewed: ViewedPart = { ...part, fetchableAt: at, frames: 0 };
        this.arrivals.push(viewed);
        const map = p.map;
        this.fetchChain = this.fetchChain.then(() => this.fetchPart(viewed, map));
      }
    }
  }

  /** Fetches a part as a player would (in order, beside the reload loop); decoder viewers feed it on. */
  private async fetchPart(part: ViewedPart, map: string | null): Promise<void> {
    if (this.abort.signal.aborted) return;
    try {
      if (!this.init && map) {
        const res = await get(resolveUri(this.playlistUrl, map), this.abort.signal);
        if (res.status !== 200) throw new Error(`init ${map} → ${res.status}`);
        const bytes = Buffer.from(await res.arrayBuffer());
        this.init = parseInit(bytes);
        this.decoder?.write(bytes);
      }
      const res = await get(resolveUri(this.playlistUrl, part.uri), this.abort.signal);
      if (res.status !== 200) throw new Error(`part ${part.uri} → ${res.status}`);
      const bytes = Buffer.from(await res.arrayBuffer());
      if (!this.init) throw new Error(`part ${part.uri} before any EXT-X-MAP`);
      part.frames = videoSampleCount(bytes, this.init);
      if (!this.decoder) return;
      if (!this.feeding && !part.independent) return; // decoding starts at a keyframe
      this.feeding = true;
      this.decoder.write(bytes);
      this.decoded.push(part);
    } catch (err) {
      if (!this.abort.signal.aborted) this.errors.push((err as Error).message);
    }
  }

  /** Decoded frames' capture times, aligned with `decoded`. */
  get captures(): readonly (number | null)[] {
    return this.decoder?.captures ?? [];
  }
}

export class ClassicViewer {
  /** Segment number → when this viewer first saw it complete; segments there at its first load are left out. */
  readonly segmentsSeenAt = new Map<number, number>();
  readonly errors: string[] = [];
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;

  constructor(readonly playlistUrl: string) {
    setMaxListeners(0, this.abort.signal);
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    let first = true;
    while (!this.abort.signal.aborted) {
      const began = Date.now();
      let wait = 1000;
      try {
        const p = await loadMediaPlaylist(this.playlistUrl, this.abort.signal);
        const at = Date.now();
        let changed = false;
        for (const s of p.segments) {
          if (this.segmentsSeenAt.has(s.msn)) continue;
          this.segmentsSeenAt.set(s.msn, first ? 0 : at);
          changed = true;
        }
        first = false;
        // A new segment: wait a target duration from the start of this load; none: half of it.
        wait = (changed ? p.targetDuration : p.targetDuration / 2) * 1000 - (Date.now() - began);
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.errors.push((err as Error).message);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(0, wait));
        this.abort.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
    }
  }
}
