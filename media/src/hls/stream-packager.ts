import { EventEmitter } from 'node:events';
import type { HlsStore } from './hls-store.ts';
import { renderMultivariantPlaylist, type Variant } from './playlist.ts';
import { PLAYLIST_TYPE, RenditionPackager, type RenditionOptions } from './rendition-packager.ts';

export const MASTER_PLAYLIST = 'master.m3u8';

/**
 * All renditions of one stream under `<streamId>/`: one RenditionPackager each, and the
 * multivariant playlist, written once every rendition has a first complete segment (so its
 * BANDWIDTH and CODECS are measured rather than guessed).
 */
export class StreamPackager extends EventEmitter<{ update: [rendition: string] }> {
  readonly renditions = new Map<string, RenditionPackager>();
  private masterWritten = false;

  constructor(
    readonly streamId: string,
    names: string[],
    private readonly store: HlsStore,
    opts: Omit<RenditionOptions, 'prefix' | 'store'>,
  ) {
    super();
    this.setMaxListeners(0); // one listener per waiting blocking-reload request
    for (const name of names) {
      const r = new RenditionPackager({ ...opts, store, prefix: `${streamId}/${name}/` });
      r.on('update', () => {
        this.emit('update', name);
        if (!this.masterWritten) void this.maybeWriteMaster();
      });
      this.renditions.set(name, r);
    }
  }

  private async maybeWriteMaster(): Promise<void> {
    const variants: Variant[] = [];
    for (const [name, r] of this.renditions) {
      if (!r.init || r.playlist.segments.length === 0) return;
      const video = r.init.tracks.find((t) => t.kind === 'video');
      variants.push({
        uri: `${name}/index.m3u8`,
        bandwidth: Math.max(r.peakBandwidth, 1000),
        averageBandwidth: r.averageBandwidth,
        codecs: r.init.tracks.map((t) => t.codec).filter((c): c is string => c !== null),
        ...(video?.width && video.height ? { resolution: { width: video.width, height: video.height } } : {}),
      });
    }
    if (this.masterWritten) return;
    this.masterWritten = true;
    // Highest bandwidth first: players that do not sort start with the best rendition.
    variants.sort((a, b) => b.bandwidth - a.bandwidth);
    await this.store.put(`${this.streamId}/${MASTER_PLAYLIST}`, Buffer.from(renderMultivariantPlaylist(variants)), PLAYLIST_TYPE);
    this.emit('update', '');
  }

  startRun(): void {
    for (const r of this.renditions.values()) r.startRun();
  }

  async endRun(): Promise<void> {
    await Promise.all([...this.renditions.values()].map((r) => r.endRun()));
  }

  async finish(): Promise<void> {
    await Promise.all([...this.renditions.values()].map((r) => r.finish()));
    if (!this.masterWritten) await this.maybeWriteMaster();
  }
}
