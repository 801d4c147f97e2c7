import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { watch } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startWebRtcIngest, WebRtcError, type WebRtcIngestSource, type WebRtcSignaling } from '@flock/media/webrtc';
import HLS from 'hls-parser';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertMediaTool, CACHE_HOME, CHROMIUM_ARGS, CHROMIUM_PATH, testWorkerBin } from '../support/media-tools.ts';
import { startWebRtcPageServer, type WebRtcPageServer } from '../support/webrtc-page-server.ts';
import { FFMPEG } from '../support/services.ts';
import type { PublishOptions, PublishResult } from '../support/webrtc-publisher.page.ts';

const silent = { info() {}, warn() {}, error() {} };

/** Resolves when `check` passes, re-checked whenever something in `dir` changes. */
function whenDir<T>(dir: string, check: () => Promise<T | null>, timeoutMs: number, what: () => string): Promise<T> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      watcher.close();
      clearTimeout(timer);
      fn();
    };
    const attempt = () => {
      void check().then((v) => v !== null && finish(() => resolve(v)), (err: unknown) => finish(() => reject(err)));
    };
    const watcher = watch(dir, attempt);
    const timer = setTimeout(() => finish(() => reject(new Error(`timed out: ${what()}`))), timeoutMs);
    attempt();
  });
}

/** ffmpeg reading the ingest as the supervisor would, writing plain fMP4 HLS (the LL-HLS packager replaces this in the product). */
function hlsFfmpeg(source: WebRtcIngestSource, outDir: string): { child: ChildProcess; stderr: () => string } {
  const child = spawn(
    FFMPEG,
    [
      '-hide_banner',
      '-nostdin',
      ...source.inputArgs(),
      '-map', '0:v:0', '-map', '0:a:0',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', '25', '-fps_mode', 'passthrough',
      '-c:a', 'aac', '-b:a', '64k',
      '-f', 'hls', '-hls_time', '1', '-hls_segment_type', 'fmp4', '-hls_list_size', '0',
      path.join(outDir, 'index.m3u8'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  return { child, stderr: () => log };
}

describe('WebRTC ingest: Chromium publishes through mediasoup, ffmpeg makes HLS', () => {
  let tmp: string;
  let signaling: WebRtcSignaling;
  let pages: WebRtcPageServer;
  let browser: Browser;
  const sources: WebRtcIngestSource[] = [];
  const sourceWaiters = new Map<string, (s: WebRtcIngestSource) => void>();
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    assertMediaTool('mediasoup');
    assertMediaTool('ffmpeg');
    assertMediaTool('chromium');
    tmp = await mkdtemp(path.join(os.tmpdir(), 'flock-webrtc-'));
    signaling = await startWebRtcIngest({
      workerBin: testWorkerBin()!,
      cacheHome: CACHE_HOME,
      listenIp: '127.0.0.1',
      sdpDir: tmp,
      authorize: async (userId, streamId) => {
        if (!streamId.startsWith(`${userId}-`)) throw new WebRtcError('FLOCK_ERR_FORBIDDEN', 'Not your stream');
      },
      onSource: (s) => {
        sources.push(s);
        sourceWaiters.get(s.streamId)?.(s);
      },
      log: silent,
    });
    expect(signaling.unavailableReason).toBeNull();
    pages = await startWebRtcPageServer(signaling);
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  }, 120_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await browser?.close();
    await pages?.close();
    await signaling?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  async function publishToHls(opts: PublishOptions) {
    const page = await browser.newPage();
    await page.goto(pages.url);
    const sourceReady = new Promise<WebRtcIngestSource>((resolve) => sourceWaiters.set(opts.streamId, resolve));
    // The page's global, set by webrtc-publisher.page.ts.
    const published = (await page.evaluate((o) => (globalThis as any).flockPublish(o), opts)) as PublishResult;
    const source = await sourceReady;
    expect(source.kind).toBe('webrtc');
    expect(source.streamId).toBe(opts.streamId);
    expect(source.codecs).toEqual({ video: published.videoCodec, audio: 'audio/opus' });

    const out = path.join(tmp, opts.streamId);
    await mkdir(out);
    const ff = hlsFfmpeg(source, out);
    children.push(ff.child);
    const exited = new Promise<number | null>((resolve) => ff.child.once('exit', resolve));
    const playlistPath = path.join(out, 'index.m3u8');
    const playlist = await whenDir(
      out,
      async () => {
        const text = await readFile(playlistPath, 'utf8').catch(() => '');
        if (!text) return null;
        const p = HLS.parse(text) as HLS.types.MediaPlaylist;
        return p.segments.length >= 2 ? p : null;
      },
      60_000,
      () => `HLS segments from the WebRTC ingest; ffmpeg said:\n${ff.stderr()}`,
    );

    // The playlist parses as fMP4 HLS, and its first segment (with the init section) holds
    // H264 video of the camera's size and AAC audio.
    expect(playlist.isMasterPlaylist).toBe(false);
    const first = playlist.segments[0]!;
    expect(first.map?.uri).toBeTruthy();
    expect(first.duration).toBeGreaterThan(0);
    const sample = path.join(out, 'first.mp4');
    await writeFile(sample, Buffer.concat([await readFile(path.join(out, first.map!.uri)), await readFile(path.join(out, first.uri))]));
    const probe = spawnSync('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', sample], { encoding: 'utf8' });
    expect(probe.status, probe.stderr).toBe(0);
    const streams = (JSON.parse(probe.stdout) as { streams: { codec_type: string; codec_name: string; width?: number; height?: number }[] }).streams;
    const video = streams.find((s) => s.codec_type === 'video');
    expect(video).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
    expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac' });

    // The broadcaster leaves: the ingest ends (its `ended` resolves) and ffmpeg can be stopped.
    await page.close();
    await source.ended;
    ff.child.kill('SIGINT');
    await exited;
    return published;
  }

  it('publishes the fake camera with the router preferred codec, and HLS segments appear', async () => {
    const published = await publishToHls({ user: 'alice', streamId: 'alice-default' });
    // The router prefers H264 (Debian's Chromium can send it); a browser without it sends VP8.
    expect(published.videoCodec).toBe(published.canSendH264 ? 'video/H264' : 'video/VP8');
    expect(published.audioCodec).toBe('audio/opus');
  }, 150_000);

  it('transcodes a VP8 publisher to H264 and Opus to AAC', async () => {
    const published = await publishToHls({ user: 'bob', streamId: 'bob-vp8', videoCodec: 'video/VP8' });
    expect(published.videoCodec).toBe('video/VP8');
  }, 150_000);
});
