import type { HlsStore } from './hls-store.ts';

/** Keeps every file in memory: for the embedded default with DATA_DIR=memory:// and for tests. */
export class MemoryHlsStore implements HlsStore {
  private readonly files = new Map<string, Buffer>();

  async put(path: string, bytes: Buffer): Promise<void> {
    this.files.set(path, bytes);
  }

  async get(path: string): Promise<Buffer | null> {
    return this.files.get(path) ?? null;
  }

  async delete(path: string): Promise<void> {
    this.files.delete(path);
  }

  async deletePrefix(prefix: string): Promise<void> {
    for (const k of [...this.files.keys()]) if (k.startsWith(prefix)) this.files.delete(k);
  }
}
