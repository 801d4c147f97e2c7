import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { HlsStore } from './hls-store.ts';

/** Files under a directory; playlists are replaced atomically (write, then rename). */
export class FileHlsStore implements HlsStore {
  constructor(private readonly root: string) {}

  private full(p: string): string {
    const full = path.resolve(this.root, p);
    // Paths come from the packager, not from clients; this is a last line of defence all the same.
    if (!full.startsWith(path.resolve(this.root) + path.sep)) throw new Error(`path escapes the HLS root: ${p}`);
    return full;
  }

  async put(p: string, bytes: Buffer): Promise<void> {
    const full = this.full(p);
    await mkdir(path.dirname(full), { recursive: true });
    const tmp = `${full}.${process.pid}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, full);
  }

  async get(p: string): Promise<Buffer | null> {
    try {
      return await readFile(this.full(p));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(p: string): Promise<void> {
    await rm(this.full(p), { force: true });
  }

  async deletePrefix(prefix: string): Promise<void> {
    await rm(this.full(prefix), { recursive: true, force: true });
  }
}
