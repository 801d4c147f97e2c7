import { once } from 'node:events';
import type { HlsStore } from './hls-store.ts';
import { lastMsn, playlistHas } from './playlist.ts';
import { MASTER_PLAYLIST, type StreamPackager } from './stream-packager.ts';

export type OriginAnswer =
  | { kind: 'file'; bytes: Buffer; headers: Record<string, string> }
  | { kind: 'not-found' }
  | { kind: 'bad-request'; message: string }
  | { kind: 'timeout' };

const RENDITION = /^[a-z0-9]{1,16}$/;
const FILE = /^(?:index\.m3u8|init\d{1,6}\.mp4|seg\d{1,9}(?:\.\d{1,4})?\.m4s)$/;
const NUMBER = /^\d{1,9}$/;

/** Cache-Control per DESIGN §7 (what CloudFront keeps and for how long). */
export function cacheControl(file: string, ended: boolean): string {
  if (file.endsWith('.m3u8')) return ended ? 'public, max-age=3600' : 'public, max-age=1';
  return 'public, max-age=1209600, immutable';
}

export function contentType(file: string): string {
  return file.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp4';
}

/**
 * The HLS origin: `<streamId>/master.m3u8` and `<streamId>/<rendition>/<file>`. Names are checked
 * against a closed set of patterns (no path ever reaches the store unchecked). Media playlists
 * honour LL-HLS blocking reload (`_HLS_msn`, `_HLS_part`), and a part or segment announced but
 * not yet written (the preload hint) is held until it exists, up to `blockTimeoutMs`.
 */
export class HlsOrigin {
  constructor(
    private readonly store: HlsStore,
    private readonly live: (streamId: string) => StreamPackager | undefined,
    private readonly blockTimeoutMs: number,
  ) {}

  async serve(streamId: string, rendition: string | null, file: string, query: URLSearchParams): Promise<OriginAnswer> {
    if (rendition === null ? file !== MASTER_PLAYLIST : !RENDITION.test(rendition) || !FILE.test(file)) return { kind: 'not-found' };
    const path = rendition === null ? `${streamId}/${file}` : `${streamId}/${rendition}/${file}`;
    const packager = this.live(streamId);
    const r = rendition === null ? undefined : packager?.renditions.get(rendition);

    if (file === 'index.m3u8') {
      const msnText = query.get('_HLS_msn');
      const partText = query.get('_HLS_part');
      if (partText !== null && msnText === null) return { kind: 'bad-request', message: '_HLS_part needs _HLS_msn' };
      if ((msnText !== null && !NUMBER.test(msnText)) || (partText !== null && !NUMBER.test(partText))) {
        return { kind: 'bad-request', message: '_HLS_msn and _HLS_part must be whole numbers' };
      }
      if (msnText !== null && r) {
        const msn = Number(msnText);
        const part = partText === null ? null : Number(partText);
        if (!r.playlist.ended && msn > lastMsn(r.playlist) + 2) return { kind: 'bad-request', message: '_HLS_msn is more than two segments ahead of the playlist' };
        const ok = await this.waitUntil(packager!, () => playlistHas(r.playlist, msn, part));
        if (!ok) return { kind: 'timeout' };
      }
    }

    let bytes = await this.store.get(path);
    const wanted = /^seg(\d+)(?:\.(\d+))?\.m4s$/.exec(file);
    if (bytes === null && r && wanted && !r.playlist.ended) {
      const msn = Number(wanted[1]);
      const part = wanted[2] === undefined ? null : Number(wanted[2]);
      // The preload hint, or the segment being built: answer as soon as the packager writes it.
      // Anything further ahead is not something a player was told about.
      if (msn <= lastMsn(r.playlist) + 1) {
        await this.waitUntil(packager!, () => playlistHas(r.playlist, msn, part));
        bytes = await this.store.get(path);
      }
    }
    if (bytes === null) return { kind: 'not-found' };
    const ended = rendition === null ? !packager : (r?.playlist.ended ?? true);
    return {
      kind: 'file',
      bytes,
      headers: { 'content-type': contentType(file), 'cache-control': cacheControl(file, ended) },
    };
  }

  /** Resolves true once `done()` holds, false after the timeout; re-checked on every packager update. */
  private async waitUntil(packager: StreamPackager, done: () => boolean): Promise<boolean> {
    if (done()) return true;
    const deadline = Date.now() + this.blockTimeoutMs;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.blockTimeoutMs);
    try {
      while (Date.now() < deadline) {
        await once(packager, 'update', { signal: ac.signal });
        if (done()) return true;
      }
      return false;
    } catch {
      return done();
    } finally {
      clearTimeout(timer);
    }
  }
}
