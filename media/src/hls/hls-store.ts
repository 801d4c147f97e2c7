/**
 * Where HLS files go. Paths are relative to the HLS root: `<streamId>/<rendition>/<file>`.
 * A put is visible to `get` as soon as it resolves; files are written once and never changed,
 * except playlists, which are replaced whole. Implementations: memory (embedded, tests), file
 * (a directory), and a publisher that also copies every file to S3.
 */
export interface HlsStore {
  put(path: string, bytes: Buffer, contentType: string): Promise<void>;
  get(path: string): Promise<Buffer | null>;
  /** Deletes one file; a missing file is not an error. */
  delete(path: string): Promise<void>;
  /** Deletes everything under a prefix (a stream's directory). */
  deletePrefix(prefix: string): Promise<void>;
}
