import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse, types } from 'hls-parser';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/broadcaster.ts';
import { assertMediaTool, CHROMIUM_ARGS, CHROMIUM_PATH, testWorkerBin } from '../support/media-tools.ts';
import { collect, connectSocket, type TestSocket } from '../support/socket-client.ts';
import { startTestGateway, type TestGateway, type TestUser } from '../support/test-gateway.ts';
import { startPublisherPageServer, type WebRtcPageServer } from '../support/webrtc-page-server.ts';
import type { PublishOptions, PublishResult } from '../support/webrtc-publisher.page.ts';

/**
 * A browser goes live through the gateway itself: signed in on the Flock socket with its access
 * token, it publishes Chromium's fake camera over WebRTC into its own stream, and the broadcast
 * takes the same path as an RTMP one: the live session (ffmpeg → LL-HLS packager → origin), the
 * followers' stream:live and live notification, and at the end stream:ended and ENDLIST.
 */
describe('WebRTC broadcast through the gateway: go-live, LL-HLS, end', () => {
  let t: TestGateway;
  let owner: TestUser;
  let fan: TestUser;
  let fanSocket: TestSocket;
  let pages: WebRtcPageServer;
  let browser: Browser;
  let page: Page;
  let tmp: string;
  let stream: { id: string; ingest: { rtmp: string; webrtc?: string } };

  beforeAll(async () => {
    assertMediaTool('mediasoup');
    assertMediaTool('ffmpeg');
    assertMediaTool('chromium');
    tmp = await mkdtemp(path.join(os.tmpdir(), 'flock-webrtc-live-'));
    t = await startTestGateway('pglite', 'uws', { MEDIASOUP_WORKER_BIN: testWorkerBin()!, WEBRTC_LISTEN_IP: '127.0.0.1', HLS_BLOCK_TIMEOUT_MS: 8000 });
    [owner, fan] = await Promise.all([t.register('wown'), t.register('wfan')]);
    expect((await t.api('PUT', `/v1/users/${owner.handle}/follow`, { token: fan.accessToken })).status).toBe(200);
    fanSocket = await connectSocket(t.url, fan.accessToken);
    const r = await t.api('POST', '/v1/streams', { token: owner.accessToken, body: { title: 'from the browser' } });
    expect(r.status).toBe(201);
    stream = r.body;
    pages = await startPublisherPageServer();
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  }, 120_000);

  afterAll(async () => {
    fanSocket?.close();
    await browser?.close();
    await pages?.close();
    await t?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('offers WebRTC ingest on the stream, on its own socket', () => {
    expect(stream.ingest.webrtc).toBe(t.url);
    expect(t.gw.live.media).not.toBeNull();
  });

  it('goes live from the browser: the follower gets stream:live and a live notification', async () => {
    const live = collect(fanSocket, 'stream:live');
    const notes = collect(fanSocket, 'notification');
    page = await browser.newPage();
    await page.goto(pages.url);
    const opts: PublishOptions = { url: t.url, token: owner.accessToken, streamId: stream.id };
    const published = (await page.evaluate((o) => (globalThis as any).flockPublish(o), opts)) as PublishResult;
    expect(published.audioCodec).toBe('audio/opus');
    const e = await live.next((x) => x.stream.id === stream.id, 20_000);
    expect(e.stream).toMatchObject({ status: 'live', owner: { id: owner.id } });
    const n = await notes.next((x) => x.notification.kind === 'live', 5000);
    expect(n.notification).toMatchObject({ kind: 'live', streamId: stream.id, actor: { id: owner.id } });
    // The stream is taken: a second WebRTC publisher (or RTMP, which checks the same status) is refused.
    const again = await page.evaluate((o) => (globalThis as any).flockPublish(o).then(() => 'published', (err: Error) => err.message), opts);
    expect(again).toMatch(/^FLOCK_ERR_INGEST_BUSY/);
  }, 60_000);

  it('packages the browser video into LL-HLS on the origin: H264 and AAC segments', async () => {
    const hls = (p: string) => t.api('GET', `/hls/${stream.id}/${p}`);
    const playlist = await eventually(
      async () => {
        const r = await hls('source/index.m3u8');
        if (r.status !== 200) return undefined;
        const pl = parse(r.text) as types.MediaPlaylist;
        // A complete segment (the one being written has only its parts listed so far).
        return pl.segments[0]?.uri && pl.segments[0].duration > 0 ? pl : undefined;
      },
      45_000,
      'a complete segment in the source playlist',
    );
    expect(playlist.isMasterPlaylist).toBe(false);
    // Written once every rendition has a complete segment (its CODECS and BANDWIDTH measured).
    const masterText = await eventually(async () => {
      const r = await hls('master.m3u8');
      return r.status === 200 ? r.text : undefined;
    }, 15_000, 'the multivariant playlist');
    const master = parse(masterText) as types.MasterPlaylist;
    expect(master.variants[0]!.codecs).toMatch(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
    const first = playlist.segments[0]!;
    const init = await fetch(`${t.url}/hls/${stream.id}/source/${first.map!.uri}`);
    const seg = await fetch(`${t.url}/hls/${stream.id}/source/${first.uri}`);
    expect([init.status, seg.status]).toEqual([200, 200]);
    const sample = path.join(tmp, 'first.mp4');
    await writeFile(sample, Buffer.concat([Buffer.from(await init.arrayBuffer()), Buffer.from(await seg.arrayBuffer())]));
    const probe = spawnSync('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', sample], { encoding: 'utf8' });
    expect(probe.status, probe.stderr).toBe(0);
    const streams = (JSON.parse(probe.stdout) as { streams: { codec_type: string; codec_name: string; width?: number; height?: number }[] }).streams;
    expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
    expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac' });
  }, 60_000);

  it('the browser leaving ends the stream: stream:ended, ENDLIST, status ended', async () => {
    const ended = collect(fanSocket, 'stream:ended');
    await page.close();
    await ended.next((x) => x.streamId === stream.id, 20_000);
    const pl = await eventually(
      async () => {
        const r = await t.api('GET', `/hls/${stream.id}/source/index.m3u8`);
        return r.status === 200 && r.text.includes('#EXT-X-ENDLIST') ? r.text : undefined;
      },
      10_000,
      'ENDLIST',
    );
    expect((parse(pl) as types.MediaPlaylist).endlist).toBe(true);
    expect((await t.api('GET', `/v1/streams/${stream.id}`)).body.status).toBe('ended');
    expect(t.gw.live.media!.session(stream.id)).toBeUndefined();
  }, 40_000);

  it('deleting a live WebRTC stream cuts the browser off and stops ffmpeg', async () => {
    const r = await t.api('POST', '/v1/streams', { token: owner.accessToken, body: { title: 'to be deleted' } });
    const id = r.body.id as string;
    const live = collect(fanSocket, 'stream:live');
    const p = await browser.newPage();
    await p.goto(pages.url);
    const published = (await p.evaluate((o) => (globalThis as any).flockPublish(o), { url: t.url, token: owner.accessToken, streamId: id })) as PublishResult;
    await live.next((x) => x.stream.id === id, 20_000);
    const session = await eventually(() => t.gw.live.media!.session(id), 5000, 'the live session');
    const ffmpegPid = await eventually(() => session.ffmpegPid, 10_000, 'ffmpeg');
    expect((await t.api('DELETE', `/v1/streams/${id}`, { token: owner.accessToken })).status).toBe(204);
    expect(t.gw.live.media!.session(id)).toBeUndefined();
    await eventually(() => { try { process.kill(ffmpegPid, 0); return false; } catch { return true; } }, 10_000, 'ffmpeg to exit');
    // The browser's transport is gone on the server: producing on it is NOT_FOUND (it was VALIDATION, "already produced", while open).
    const again = { transportId: published.transportId, kind: 'video', rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }] } };
    const res = (await p.evaluate((req) => (globalThis as any).flockCall('webrtc:produce', req), again)) as { ok: boolean; error?: { code: string } };
    expect(res).toMatchObject({ ok: false, error: { code: 'FLOCK_ERR_NOT_FOUND' } });
    await p.close();
  }, 60_000);
});
