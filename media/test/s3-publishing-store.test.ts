import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryHlsStore } from '../src/hls/memory-hls-store.ts';
import { S3PublishingStore } from '../src/hls/s3-publishing-store.ts';
import type { MediaLog } from '../src/log.ts';

const silent: MediaLog = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

describe('S3 publishing store (against s3rver)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flock-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
  let s3: S3Client;
  let clientConfig: S3ClientConfig;

  beforeAll(async () => {
    const { port } = await server.run();
    clientConfig = {
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    };
    s3 = new S3Client(clientConfig);
    await s3.send(new CreateBucketCommand({ Bucket: 'live' }));
  });

  afterAll(async () => {
    s3?.destroy();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const object = async (key: string) => {
    const o = await s3.send(new GetObjectCommand({ Bucket: 'live', Key: key }));
    return { body: Buffer.from(await o.Body!.transformToByteArray()), type: o.ContentType, cache: o.CacheControl };
  };

  it('uploads every file with the origin headers, and keeps serving from the local store', async () => {
    const local = new MemoryHlsStore();
    const store = new S3PublishingStore(local, clientConfig, 'live', 'hls/', silent);
    const seg = Buffer.from('moof-and-mdat');
    await store.put('42/source/seg0.m4s', seg, 'video/mp4');
    await store.put('42/source/index.m3u8', Buffer.from('#EXTM3U\n#EXT-X-PART-INF:PART-TARGET=0.333\n'), 'application/vnd.apple.mpegurl');
    await store.put('42/master.m3u8', Buffer.from('#EXTM3U\n'), 'application/vnd.apple.mpegurl');
    expect(store.failures).toBe(0);
    expect(await store.get('42/source/seg0.m4s')).toEqual(seg);

    expect(await object('hls/42/source/seg0.m4s')).toEqual({ body: seg, type: 'video/mp4', cache: 'public, max-age=1209600, immutable' });
    expect(await object('hls/42/source/index.m3u8')).toMatchObject({ type: 'application/vnd.apple.mpegurl', cache: 'public, max-age=1' });
    await store.put('42/source/index.m3u8', Buffer.from('#EXTM3U\n#EXT-X-ENDLIST\n'), 'application/vnd.apple.mpegurl');
    expect((await object('hls/42/source/index.m3u8')).cache).toBe('public, max-age=3600');

    await store.delete('42/source/seg0.m4s');
    await expect(object('hls/42/source/seg0.m4s')).rejects.toThrow();
    await store.put('43/source/seg0.m4s', seg, 'video/mp4');
    await store.deletePrefix('42/');
    const left = await s3.send(new ListObjectsV2Command({ Bucket: 'live', Prefix: 'hls/' }));
    expect((left.Contents ?? []).map((o) => o.Key)).toEqual(['hls/43/source/seg0.m4s']);
    expect(await local.get('42/master.m3u8')).toBeNull();
    await store.close();
  });

  it('counts a failed upload and keeps the file locally', async () => {
    const local = new MemoryHlsStore();
    const store = new S3PublishingStore(local, clientConfig, 'no-such-bucket', '', silent);
    await store.put('1/source/seg0.m4s', Buffer.from('x'), 'video/mp4');
    expect(store.failures).toBe(1);
    expect(await local.get('1/source/seg0.m4s')).toEqual(Buffer.from('x'));
    await store.close();
  });
});
