import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from '../../server/test/support/gateway-process.ts';
import { broadcast, eventually, type Broadcaster } from '../../server/test/support/broadcaster.ts';
import { assertService, ffmpegAvailable } from '../../server/test/support/services.ts';
import { assertMediaTool, CHROMIUM_ARGS, testWorkerBin } from '../../server/test/support/media-tools.ts';
import { buildDemo } from '../scripts/build.ts';

const CHROMIUM = process.env.FLOCK_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots land here (gitignored) for people to look at. */
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const PHONE = { width: 390, height: 844 };
/** The parts of the page's <video> the player test reads (this tsconfig has no DOM lib). */
interface VideoLike {
  currentTime: number;
  paused: boolean;
  readyState: number;
  error: { message: string } | null;
  buffered: { length: number; start(i: number): number; end(i: number): number };
}

/**
 * The demo web app, built and served by a gateway process, driven in Debian's Chromium:
 * two people in two browser contexts, one following the other.
 */
describe('the demo web app in Chromium', () => {
  let webDir: string;
  let gateway: GatewayProcess;
  let starting: Promise<GatewayProcess> | undefined;
  let browser: Browser;
  let caster: Broadcaster | undefined;
  let a: { ctx: BrowserContext; page: Page; handle: string };
  let b: { ctx: BrowserContext; page: Page; handle: string };
  const run = (process.pid % 10000).toString(36);

  const open = async (handle: string) => {
    const ctx = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1 });
    const page = await ctx.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (err) => console.error(`[${handle}] page error:`, err));
    await page.goto(gateway.url);
    return { ctx, page, handle };
  };
  const signUp = async (p: Page, handle: string) => {
    const form = p.getByRole('form', { name: 'Create an account' });
    await form.getByLabel('Handle').fill(handle);
    await form.getByLabel('Name').fill(handle.toUpperCase());
    await form.getByLabel('Email').fill(`${handle}@example.test`);
    await form.getByLabel(/^Password/).fill('long enough pw');
    await form.getByRole('button', { name: 'Sign up' }).click();
    await p.getByRole('feed', { name: 'Home timeline' }).waitFor({ state: 'attached' });
  };
  const live = (p: Page) => p.locator('#connection[data-state="connected"]').waitFor({ timeout: 15_000 });
  const post = async (p: Page, text: string) => {
    await p.getByLabel('Tweet text').fill(text);
    const done = p.waitForResponse((r) => r.url().endsWith('/v1/tweets') && r.request().method() === 'POST');
    await p.getByRole('button', { name: 'Tweet', exact: true }).click();
    expect((await done).status()).toBe(201);
  };
  const tweetsIn = (p: Page, text: string) => p.getByRole('feed', { name: 'Home timeline' }).locator('article', { hasText: text });

  beforeAll(async () => {
    assertService('chromium', existsSync(CHROMIUM));
    assertService('ffmpeg', ffmpegAvailable());
    assertMediaTool('mediasoup');
    mkdirSync(ARTIFACTS, { recursive: true });
    webDir = mkdtempSync(path.join(tmpdir(), 'flock-demo-'));
    await buildDemo(webDir);
    // WebRTC ingest on loopback: the go-live page publishes Chromium's fake camera to it.
    starting = startGatewayProcess({ DATA_DIR: 'memory://', WEB_APP_DIR: webDir, MEDIASOUP_WORKER_BIN: testWorkerBin()!, WEBRTC_LISTEN_IP: '127.0.0.1' });
    gateway = await starting;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // A fake camera and microphone without a permission prompt, loopback ICE candidates.
      args: CHROMIUM_ARGS,
    });
    a = await open(`ra${run}`);
    b = await open(`wb${run}`);
  }, 180_000); // a build, a gateway and a browser, on a machine that may be busy
  afterAll(async () => {
    await caster?.stop();
    await browser?.close();
    // Awaited even when the hook timed out while the gateway was starting: no process is left behind.
    const g = await starting?.catch(() => null);
    g?.child.kill('SIGKILL');
    await g?.exited();
    if (webDir) rmSync(webDir, { recursive: true, force: true });
  });

  it('signs two people up; the composer counts graphemes like the server', async () => {
    await signUp(a.page, a.handle);
    await signUp(b.page, b.handle);
    const family = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}';
    await b.page.getByLabel('Tweet text').fill(`${family}${family} e\u0301`);
    await expect.poll(() => b.page.getByTestId('counter').textContent()).toBe('4/280');
    await b.page.getByLabel('Tweet text').fill('x'.repeat(281));
    await expect.poll(() => b.page.getByTestId('counter').textContent()).toBe('281/280');
    expect(await b.page.getByRole('button', { name: 'Tweet', exact: true }).isDisabled()).toBe(true);
    await b.page.getByLabel('Tweet text').fill('');
  });

  it('A follows B on B’s profile; B’s notification badge counts it live', async () => {
    await live(b.page);
    await a.page.goto(`${gateway.url}/#/u/${b.handle}`);
    const follow = a.page.getByRole('button', { name: 'Follow' });
    await follow.click();
    await a.page.getByRole('button', { name: 'Unfollow' }).waitFor();
    await expect.poll(() => b.page.getByTestId('unread').textContent(), { timeout: 5000 }).toBe('1');
    await b.page.getByRole('link', { name: /Notifications/ }).click();
    await b.page.locator('.notifications li', { hasText: `@${a.handle} followed you` }).waitFor();
  });

  it('B posts; A sees the tweet without reloading within 1 s', async () => {
    await a.page.getByRole('link', { name: 'Home' }).click();
    await b.page.getByRole('link', { name: 'Home' }).click();
    await live(a.page);
    await post(b.page, 'hello from B, live');
    await tweetsIn(a.page, 'hello from B, live').waitFor({ timeout: 1000 });
    await a.page.screenshot({ path: path.join(ARTIFACTS, 'timeline-live.png'), fullPage: true });
  });

  it('A goes offline, B posts three tweets, A comes back and sees all three exactly once', async () => {
    await a.ctx.setOffline(true);
    await a.page.locator('#connection:not([data-state="connected"])').waitFor();
    for (const n of [1, 2, 3]) await post(b.page, `while A was away #${n}`);
    expect(await a.page.getByRole('feed', { name: 'Home timeline' }).locator('article', { hasText: 'while A was away' }).count()).toBe(0);

    await a.ctx.setOffline(false);
    for (const n of [1, 2, 3]) await tweetsIn(a.page, `while A was away #${n}`).waitFor({ timeout: 15_000 });
    await live(a.page);
    for (const n of [1, 2, 3]) expect(await tweetsIn(a.page, `while A was away #${n}`).count()).toBe(1);
    // All four of B's tweets, newest first, and nothing twice.
    const texts = await a.page.getByRole('feed', { name: 'Home timeline' }).locator('article .text').allTextContents();
    expect(texts).toEqual(['while A was away #3', 'while A was away #2', 'while A was away #1', 'hello from B, live']);
    await a.page.screenshot({ path: path.join(ARTIFACTS, 'timeline-after-offline.png'), fullPage: true });
  });

  it('the live list and the player page render; go-live shows the RTMP server and key', async () => {
    await a.page.getByRole('link', { name: 'Live' }).click();
    await expect.poll(() => a.page.locator('section', { has: a.page.getByRole('heading', { name: 'Live now' }) }).locator('p[role]').first().textContent(), { timeout: 5000 }).toBe('Nobody is live right now.');
    await a.page.screenshot({ path: path.join(ARTIFACTS, 'live-list.png'), fullPage: true });
    await a.page.goto(`${gateway.url}/#/live/1234567`);
    await a.page.getByLabel('Live video').waitFor();
    await expect.poll(() => a.page.locator('.player [role=alert]').textContent(), { timeout: 10_000 }).toBe('No such stream.');

    await a.page.goto(`${gateway.url}/#/go-live`);
    await a.page.getByLabel('Title').fill('my first stream');
    await a.page.getByRole('button', { name: 'Create stream' }).click();
    expect(await a.page.getByLabel('Server').inputValue()).toMatch(/^rtmp:\/\/127\.0\.0\.1:\d+\/live$/);
    expect(await a.page.getByLabel(/^Stream key/).inputValue()).toMatch(/^\d+_[A-Za-z0-9_-]{32}$/);
  });

  it('plays a live RTMP stream in hls.js: the video advances, and the player is screenshotted', async () => {
    // The stream A created on the go-live page; ffmpeg publishes to the server and key shown there, as OBS would.
    const rtmp = await a.page.getByLabel('Server').inputValue();
    const key = await a.page.getByLabel(/^Stream key/).inputValue();
    const id = key.split('_')[0]!;
    await a.page.getByRole('link', { name: 'Open the player' }).click();
    await expect.poll(() => a.page.locator('.player [role=status]').textContent(), { timeout: 10_000 }).toBe('This stream is not live (or has no video yet).');

    caster = broadcast(`${rtmp}/${key}`);
    await eventually(async () => {
      if (caster!.child.exitCode !== null) throw new Error(`ffmpeg exited: ${caster!.stderr()}`);
      const r = await fetch(`${gateway.url}/v1/streams/${id}`);
      return ((await r.json()) as { status: string }).status === 'live';
    }, 20_000, 'the stream to go live');
    // Live from the moment ffmpeg is accepted; playable once the packager has written the first segment.
    await eventually(async () => (await fetch(`${gateway.url}/hls/${id}/master.m3u8`)).status === 200, 20_000, 'the multivariant playlist');
    const list = (await (await fetch(`${gateway.url}/v1/streams?live=true`)).json()) as { items: { id: string }[] };
    expect(list.items.map((s) => s.id)).toEqual([id]);

    await a.page.reload();
    const video = a.page.getByLabel('Live video');
    await video.waitFor();
    // Debian's chromium decodes H.264 (it is built against the system FFmpeg); say so plainly if a build does not.
    const h264 = await a.page.evaluate(() =>
      (globalThis as unknown as { MediaSource: { isTypeSupported(t: string): boolean } }).MediaSource.isTypeSupported('video/mp4; codecs="avc1.64001f"'),
    );
    expect(h264, 'this chromium cannot decode H.264 in Media Source Extensions').toBe(true);
    // Functions, not strings: the app's CSP forbids eval. The casts stand in for the DOM lib this tsconfig lacks.
    type Doc = { document: { querySelector(s: 'video'): VideoLike } };
    await a.page.waitForFunction(() => (globalThis as unknown as Doc).document.querySelector('video').currentTime > 0, undefined, { timeout: 30_000 }).catch(async (err: Error) => {
      // Say what the player saw: readiness, buffered range, media error and the page's status line.
      const seen = await video.evaluate((v: VideoLike) => {
        const buffered = v.buffered.length ? [v.buffered.start(0), v.buffered.end(v.buffered.length - 1)] : [];
        return { readyState: v.readyState, error: v.error?.message, buffered };
      });
      const status = await a.page.locator('.player [role]').first().textContent();
      throw new Error(`${err.message}; the player saw ${JSON.stringify(seen)}, status ${JSON.stringify(status)}`);
    });
    const start = await video.evaluate((v: VideoLike) => v.currentTime);
    await a.page.waitForFunction((t0) => (globalThis as unknown as Doc).document.querySelector('video').currentTime >= t0 + 1, start, { timeout: 20_000 });
    expect(await video.evaluate((v: VideoLike) => v.paused)).toBe(false);
    expect(await a.page.locator('.player [role=status]').textContent()).toBe('');
    expect(await a.page.getByRole('heading', { name: 'my first stream' }).count()).toBe(1);
    await a.page.screenshot({ path: path.join(ARTIFACTS, 'player.png'), fullPage: true });
  }, 90_000);

  it('B goes live from the go-live page with the camera (WebRTC): A is notified, HLS appears, leaving ends it', async () => {
    await b.page.goto(`${gateway.url}/#/go-live`);
    await b.page.getByLabel('Title').fill('from my camera');
    await b.page.getByRole('button', { name: 'Create stream' }).click();
    // The RTMP details are there too, for OBS.
    expect(await b.page.getByLabel('Server').inputValue()).toMatch(/^rtmp:\/\//);
    const id = (await b.page.getByLabel(/^Stream key/).inputValue()).split('_')[0]!;
    await b.page.getByRole('button', { name: 'Start camera and go live' }).click();
    await expect.poll(() => b.page.locator('.webrtc [role=status]').textContent(), { timeout: 30_000 }).toBe('You are live.');
    await eventually(async () => ((await (await fetch(`${gateway.url}/v1/streams/${id}`)).json()) as { status: string }).status === 'live', 20_000, 'the stream to go live');
    // A follows B: the live notification arrives on A's page.
    await a.page.getByRole('link', { name: /Notifications/ }).click();
    await a.page.locator('.notifications li', { hasText: `@${b.handle} is live now` }).waitFor({ timeout: 10_000 });
    // The same LL-HLS pipeline as RTMP: ffmpeg transcodes the browser's video into the source rendition.
    await eventually(async () => {
      const r = await fetch(`${gateway.url}/hls/${id}/source/index.m3u8`);
      return r.status === 200 && /#EXTINF/.test(await r.text());
    }, 30_000, 'a segment in the source playlist');
    await b.page.screenshot({ path: path.join(ARTIFACTS, 'go-live-camera.png'), fullPage: true });

    // Leaving the page stops the camera and closes the transport: the stream ends, the playlist gets ENDLIST.
    await b.page.getByRole('link', { name: 'Home' }).click();
    await eventually(async () => ((await (await fetch(`${gateway.url}/v1/streams/${id}`)).json()) as { status: string }).status === 'ended', 20_000, 'the stream to end');
    await eventually(async () => /#EXT-X-ENDLIST/.test(await (await fetch(`${gateway.url}/hls/${id}/source/index.m3u8`)).text()), 10_000, 'ENDLIST');
  }, 120_000);

  it('logging out ends the session and forgets the tokens', async () => {
    await a.page.getByRole('button', { name: 'Log out' }).click();
    await a.page.getByRole('form', { name: 'Log in' }).waitFor();
    expect(await a.page.evaluate(() => (globalThis as any).localStorage.getItem('flock.tokens'))).toBeNull();
    await a.page.reload();
    await a.page.getByRole('form', { name: 'Log in' }).waitFor();
  });
});
