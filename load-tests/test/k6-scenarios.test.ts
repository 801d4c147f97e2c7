import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertService, createTestDatabase, postgresAvailable } from '../../server/test/support/services.ts';
import { startGatewayProcess, type GatewayProcess } from '../bench/gateway-process.ts';
import { runScenario, type Result } from './support/k6-shim/run-scenario.ts';

// k6 is not installable here, so each scenario runs under Node with stand-ins for k6's modules
// (test/support/k6-shim: synchronous HTTP, k6/websockets on `ws`, metrics, timers), against a
// real gateway process, with its thresholds evaluated on what it recorded. This proves the
// scripts' own logic (setup, the socket client, accounting, HLS playback) end to end; it does
// not prove k6's scheduling, which the runner only imitates.

/** A live LL-HLS origin: a part every 200 ms, 4 parts a segment, blocking reloads honoured. */
function startHlsOrigin(): Promise<{ server: Server; url: string; blockingReloads: () => number }> {
  const started = Date.now();
  const PART_MS = 200;
  const PARTS = 4;
  let blocking = 0;
  const partsNow = () => Math.floor((Date.now() - started) / PART_MS) + PARTS * 2; // two segments exist at start
  const playlist = () => {
    const total = partsNow();
    const complete = Math.floor(total / PARTS);
    const first = Math.max(0, complete - 3);
    const lines = ['#EXTM3U', '#EXT-X-VERSION:9', '#EXT-X-TARGETDURATION:2', '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.6', '#EXT-X-PART-INF:PART-TARGET=0.2', `#EXT-X-MEDIA-SEQUENCE:${first}`, '#EXT-X-MAP:URI="init.mp4"'];
    for (let s = first; s < complete; s++) {
      for (let p = 0; p < PARTS; p++) lines.push(`#EXT-X-PART:DURATION=0.2,URI="seg${s}.${p}.m4s"${p === 0 ? ',INDEPENDENT=YES' : ''}`);
      lines.push('#EXTINF:0.8,', `seg${s}.m4s`);
    }
    for (let p = 0; p < total % PARTS; p++) lines.push(`#EXT-X-PART:DURATION=0.2,URI="seg${complete}.${p}.m4s"`);
    lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg${complete}.${total % PARTS}.m4s"`);
    return lines.join('\n') + '\n';
  };
  const server = createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    const send = (status: number, type: string, body: string) => res.writeHead(status, { 'content-type': type }).end(body);
    if (u.pathname === '/hls/s1/index.m3u8') return send(200, 'application/vnd.apple.mpegurl', '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nsource/index.m3u8\n');
    if (u.pathname === '/hls/s1/source/index.m3u8') {
      const msn = u.searchParams.get('_HLS_msn');
      if (msn === null) return send(200, 'application/vnd.apple.mpegurl', playlist());
      blocking++;
      const wanted = Number(msn) * PARTS + Number(u.searchParams.get('_HLS_part') ?? 0) + 1;
      const wait = setInterval(() => {
        if (partsNow() < wanted) return;
        clearInterval(wait);
        send(200, 'application/vnd.apple.mpegurl', playlist());
      }, 20);
      return;
    }
    const media = /^\/hls\/s1\/source\/(init\.mp4|seg(\d+)(?:\.(\d+))?\.m4s)$/.exec(u.pathname);
    if (media) return send(200, 'video/mp4', 'x'.repeat(1000));
    send(404, 'text/plain', 'not found');
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, blockingReloads: () => blocking })),
  );
}

describe('k6 scenarios (under the k6 shim, against a real gateway)', () => {
  let gateway: GatewayProcess;
  let summaries: string;
  const env = () => ({ BASE_URL: gateway.url, SUMMARY_DIR: summaries });

  let db: { url: string; drop: () => Promise<void> } | null = null;

  beforeAll(async () => {
    assertService('postgres', await postgresAvailable());
    summaries = mkdtempSync(path.join(os.tmpdir(), 'flock-k6-summaries-'));
    db = await createTestDatabase();
    // PostgreSQL rather than PGlite: PGlite's start-up is slow on a busy machine.
    // RTMP_PORT 0: a gateway that runs media in-process must not take the fixed 1935 other suites may use.
    gateway = await startGatewayProcess({ env: { DATABASE_URL: db.url, LOG_LEVEL: 'warn', RTMP_PORT: '0' }, readyTimeoutMs: 120_000 });
  }, 180_000);
  afterAll(async () => {
    await gateway?.stop();
    await db?.drop();
    rmSync(summaries, { recursive: true, force: true });
  }, 60_000);

  /**
   * Every functional threshold met (errors, losses, drops, checks). Latency thresholds are
   * evaluated but not asserted: this machine is shared, and speed is for real k6 runs.
   */
  const allMet = (r: Result) => {
    const timing = (k: string) => /_ms|duration/.test(k);
    expect(Object.entries(r.verdicts).filter(([k, ok]) => !timing(k) && !ok)).toEqual([]);
    expect(Object.keys(r.verdicts).some(timing)).toBe(true);
    expect(r.failedChecks).toEqual([]);
    expect(r.stdout).toMatch(/^[a-z-]+: (every threshold met|THRESHOLDS FAILED)/);
    expect(r.files).toHaveLength(1);
    expect(JSON.parse(readFileSync(r.files[0]!, 'utf8')).metrics).toBeTypeOf('object');
  };

  it('http-crud: registers its users, runs the read/write mix, and meets its thresholds', async () => {
    const r = await runScenario({ script: 'load-tests/k6/scenarios/http-crud.ts', env: { ...env(), USERS: '4' }, calls: [{ exec: 'default', scenario: 'crud', count: 40, atMs: 0, spacingMs: 10 }] });
    allMet(r);
    expect(r.values['http_req_duration{kind:read}']).toBeDefined();
    expect(r.values['http_req_duration{kind:write}']).toBeDefined();
    expect(r.values.checks!.passes).toBe(40);
  }, 120_000);

  it('timeline-push: every follower gets every tweet of the authors it follows, and none is missed', async () => {
    const r = await runScenario({
      script: 'load-tests/k6/scenarios/timeline-push.ts',
      env: { ...env(), FOLLOWERS: '3', AUTHORS: '2', FOLLOWS: '2', TWEET_RATE: '3', POST_DURATION: '2s', CONNECT_WAIT: '5s', GRACE: '5s' },
      calls: [
        { exec: 'follower', scenario: 'followers', count: 3, atMs: 0, spacingMs: 0 },
        { exec: 'author', scenario: 'authors', count: 6, atMs: 5000, spacingMs: 333 },
      ],
    });
    allMet(r);
    // 6 tweets, each followed by all 3 followers (each follows both authors).
    expect(r.values.flock_tweets_posted!.count).toBe(6);
    expect(r.values.flock_deliveries!.count).toBe(18);
    expect(r.values.flock_missed_deliveries!.count).toBe(0);
    expect(r.verdicts['flock_missed_deliveries count==0']).toBe(true);
  }, 120_000);

  it('connect-storm: every socket connects with its token and is held to the end without a drop', async () => {
    const r = await runScenario({
      script: 'load-tests/k6/scenarios/connect-storm.ts',
      env: { ...env(), SOCKETS: '4', RAMP: '3s', HOLD: '1s', USERS: '2' },
      calls: [{ exec: 'default', scenario: 'storm', count: 4, atMs: 0, spacingMs: 200 }],
    });
    allMet(r);
    expect(r.values.flock_sockets_connected!.count).toBe(4);
    expect(r.values.flock_sockets_dropped).toBeUndefined();
    expect(r.values.flock_handshake_errors).toBeUndefined();
  }, 120_000);

  it('hls-viewers: plays a live LL-HLS stream with blocking reloads, fetching parts without errors or stalls', async () => {
    const origin = await startHlsOrigin();
    try {
      const r = await runScenario({
        script: 'load-tests/k6/scenarios/hls-viewers.ts',
        env: { ...env(), HLS_URL: `${origin.url}/hls/s1/index.m3u8`, VIEWERS: '2', DURATION: '3s' },
        calls: [{ exec: 'default', scenario: 'viewers', count: 2, atMs: 0, spacingMs: 0 }],
      });
      allMet(r);
      // Two viewers for 3 s at a part per 200 ms: the init section and a dozen parts or more each.
      expect(r.values.flock_hls_media_fetched!.count).toBeGreaterThan(20);
      expect(origin.blockingReloads()).toBeGreaterThan(10);
      expect(r.values.flock_hls_errors).toBeUndefined();
      expect(r.values.flock_hls_stalls).toBeUndefined();
    } finally {
      origin.server.closeAllConnections();
      origin.server.close();
    }
  }, 120_000);
});
