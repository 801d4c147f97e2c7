import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { MediaLog } from '../log.ts';
import type { HlsStore } from './hls-store.ts';
import { cacheControl, contentType } from './origin.ts';

/**
 * Writes to the local store (which the origin serves from) and copies every file to S3, for a
 * CloudFront S3 origin, with the headers the origin would send (Content-Type, Cache-Control; an
 * ended playlist gets the VOD lifetime). Uploads are awaited in order, so a playlist never
 * reaches S3 before the parts it names. A failed upload is logged and counted, not retried:
 * the next playlist write supersedes a lost one, and the local origin still has every file.
 * The AWS SDK is loaded on first use: it costs most of a second at start, which gateways without
 * S3 should not pay.
 */
export class S3PublishingStore implements HlsStore {
  failures = 0;
  private sdk: Promise<{ s3: S3Client; lib: typeof import('@aws-sdk/client-s3') }> | null = null;

  constructor(
    private readonly inner: HlsStore,
    private readonly clientConfig: S3ClientConfig,
    private readonly bucket: string,
    /** Key prefix in the bucket, e.g. `hls/` (keys are `<prefix><streamId>/…`). */
    private readonly prefix: string,
    private readonly log: MediaLog,
  ) {}

  private client(): Promise<{ s3: S3Client; lib: typeof import('@aws-sdk/client-s3') }> {
    return (this.sdk ??= import('@aws-sdk/client-s3').then((lib) => ({ s3: new lib.S3Client(this.clientConfig), lib })));
  }

  /** Closes the S3 client's connections. */
  async close(): Promise<void> {
    if (this.sdk) (await this.sdk).s3.destroy();
  }

  async put(path: string, bytes: Buffer, type: string): Promise<void> {
    await this.inner.put(path, bytes, type);
    const file = path.slice(path.lastIndexOf('/') + 1);
    const ended = file.endsWith('.m3u8') && bytes.includes('#EXT-X-ENDLIST');
    try {
      const { s3, lib } = await this.client();
      await s3.send(
        new lib.PutObjectCommand({
          Bucket: this.bucket,
          Key: this.prefix + path,
          Body: bytes,
          ContentType: contentType(file),
          CacheControl: cacheControl(file, ended),
        }),
      );
    } catch (err) {
      this.failures++;
      this.log.warn({ err: (err as Error).message, key: this.prefix + path }, 's3 upload failed');
    }
  }

  get(path: string): Promise<Buffer | null> {
    return this.inner.get(path);
  }

  async delete(path: string): Promise<void> {
    await this.inner.delete(path);
    const { s3, lib } = await this.client();
    await s3.send(new lib.DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + path })).catch((err: unknown) => {
      this.log.warn({ err: (err as Error).message, key: this.prefix + path }, 's3 delete failed');
    });
  }

  async deletePrefix(prefix: string): Promise<void> {
    await this.inner.deletePrefix(prefix);
    const { s3, lib } = await this.client();
    let token: string | undefined;
    do {
      const page = await s3.send(new lib.ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token }));
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length) await s3.send(new lib.DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}
