import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import { chromium, type Browser } from 'playwright-core';
import { CLOCK_STRIP_HEIGHT, CLOCK_STRIP_WIDTH, decodeClockStrip } from './live-clock.ts';

/**
 * hls.js in headless Chromium, the glass end of glass-to-glass. The page plays the stream muted;
 * for every frame the compositor presents (requestVideoFrameCallback), it copies the clock strip
 * of that frame to a canvas, decodes it with the same function the harness uses, and records
 * `expected display time − capture time` (both wall clocks of this machine).
 */

const CHROMIUM_HINT = 'apt-get install chromium (or set BENCH_CHROMIUM to a Chromium binary)';

const require = createRequire(import.meta.url);

export interface PlayerResult {
  lowLatency: boolean;
  /** Glass-to-glass per presented frame, ms. */
  latencies: number[];
  /** Presented frames whose strip could not be read. */
  unreadable: number;
  /** hls.js's own distance to the live edge, seconds, sampled with every frame. */
  hlsLatency: number[];
  /** `waiting` events while measuring (rebuffering). */
  stalls: number;
  /** `waiting` events between the first frame and the measurement. */
  warmupStalls: number;
  errors: string[];
  /** Seconds from loadSource to the first frame. */
  startupSeconds: number;
}

function page(masterUrl: string, lowLatency: boolean, catchUpRate: number, referenceMs: number): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>flock live bench</title></head><body>
<video id="v" muted playsinline autoplay width="640" height="360"></video>
<canvas id="c" width="${CLOCK_STRIP_WIDTH}" height="${CLOCK_STRIP_HEIGHT}"></canvas>
<script src="/hls.js"></script>
<script>
const __name = (f) => f; // the TypeScript loader may wrap nested functions in __name()
const decode = ${decodeClockStrip.toString()};
const b = (window.bench = { recording: false, latencies: [], unreadable: 0, hlsLatency: [], stalls: 0, warmupStalls: 0, errors: [], firstFrameAt: 0, startedAt: performance.now() });
const video = document.getElementById('v');
const ctx = document.getElementById('c').getContext('2d', { willReadFrequently: true });
const hls = new Hls({ lowLatencyMode: ${lowLatency}, maxLiveSyncPlaybackRate: ${catchUpRate}, backBufferLength: 10 });
hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) b.errors.push(d.type + ': ' + d.details); });
video.addEventListener('waiting', () => { if (b.recording) b.stalls++; else if (b.firstFrameAt) b.warmupStalls++; });
hls.loadSource(${JSON.stringify(masterUrl)});
hls.attachMedia(video);
video.play().catch((e) => b.errors.push('play: ' + e.message));
function onFrame(now, meta) {
  if (!b.firstFrameAt) b.firstFrameAt = performance.now();
  if (b.recording) {
    ctx.drawImage(video, 0, 0, ${CLOCK_STRIP_WIDTH}, ${CLOCK_STRIP_HEIGHT}, 0, 0, ${CLOCK_STRIP_WIDTH}, ${CLOCK_STRIP_HEIGHT});
    const ms = decode(ctx.getImageData(0, 0, ${CLOCK_STRIP_WIDTH}, ${CLOCK_STRIP_HEIGHT}).data, ${CLOCK_STRIP_WIDTH}, 4);
    const shownAt = Date.now() + (meta.expectedDisplayTime - now);
    if (ms === null) b.unreadable++;
    else b.latencies.push(shownAt - (${referenceMs} + ms));
    if (Number.isFinite(hls.latency)) b.hlsLatency.push(hls.latency);
  }
  video.requestVideoFrameCallback(onFrame);
}
video.requestVideoFrameCallback(onFrame);
</script></body></html>`;
}

export class HlsJsPlayer {
  private constructor(private readonly browser: Browser) {}

  static async launch(executablePath: string): Promise<HlsJsPlayer> {
    if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath}: ${CHROMIUM_HINT}`);
    const browser = await chromium.launch({
      executablePath,
      headless: true,
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required',
      ],
    });
    return new HlsJsPlayer(browser);
  }

  /** Plays the stream, waits for the first frame plus `warmupMs`, then records `measureMs` of frames. */
  async measure(masterUrl: string, opts: { lowLatency: boolean; catchUpRate: number; referenceMs: number; warmupMs: number; measureMs: number }): Promise<PlayerResult> {
    const hlsJs = await readFile(require.resolve('hls.js/dist/hls.min.js'));
    // The page comes from a loopback server of its own, a different origin than the HLS origin
    // (CORS is exercised), in the same address space (Chromium refuses pages from elsewhere access to loopback).
    const html = page(masterUrl, opts.lowLatency, opts.catchUpRate, opts.referenceMs);
    const server = http.createServer((req, res) => {
      const js = req.url === '/hls.js';
      res.writeHead(200, { 'content-type': js ? 'text/javascript' : 'text/html; charset=utf-8' });
      res.end(js ? hlsJs : html);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const pageUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
    const ctx = await this.browser.newContext({ viewport: { width: 800, height: 500 } });
    try {
      const tab = await ctx.newPage();
      const pageErrors: string[] = [];
      tab.on('pageerror', (err) => pageErrors.push(err.message));
      tab.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
      await tab.goto(pageUrl);
      type Bench = { recording: boolean; firstFrameAt: number; startedAt: number; latencies: number[]; unreadable: number; hlsLatency: number[]; stalls: number; warmupStalls: number; errors: string[] };
      const state = () => tab.evaluate(() => (globalThis as unknown as { bench: Bench }).bench);
      const deadline = Date.now() + 30_000;
      for (;;) {
        const s = await state();
        if (s.firstFrameAt) break;
        if (s.errors.length || pageErrors.length || Date.now() > deadline) {
          throw new Error(`hls.js did not show a frame within 30 s: ${[...s.errors, ...pageErrors].join('; ') || 'no error reported'}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      await new Promise((r) => setTimeout(r, opts.warmupMs));
      await tab.evaluate(() => void ((globalThis as unknown as { bench: Bench }).bench.recording = true));
      await new Promise((r) => setTimeout(r, opts.measureMs));
      const s = await tab.evaluate(() => {
        const b = (globalThis as unknown as { bench: Bench }).bench;
        b.recording = false;
        return b;
      });
      return {
        lowLatency: opts.lowLatency,
        latencies: s.latencies,
        unreadable: s.unreadable,
        hlsLatency: s.hlsLatency,
        stalls: s.stalls,
        warmupStalls: s.warmupStalls,
        errors: [...s.errors, ...pageErrors],
        startupSeconds: (s.firstFrameAt - s.startedAt) / 1000,
      };
    } finally {
      await ctx.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  close(): Promise<void> {
    return this.browser.close();
  }
}
