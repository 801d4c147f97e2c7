import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { broadcast, eventually, type Broadcaster } from '../support/broadcaster.ts';
import { startLoggingProcess } from '../support/gateway-process.ts';
import { assertService, createTestDatabase, ffmpegAvailable, postgresAvailable, REDIS_URL, redisAvailable } from '../support/services.ts';
import { collect, connectSocket } from '../support/socket-client.ts';
import { startTestGateway, type TestGateway } from '../support/test-gateway.ts';

/**
 * MEDIA_SERVICE=remote: a gateway without media, and a standalone media worker
 * (`npm start -w media`) sharing its PostgreSQL and Redis. The worker checks keys in the
 * database, packages and serves HLS itself; live/ended reach the gateway through the Redis
 * report queue, and a DELETE on the gateway stops the worker's ingest over Redis.
 */
let t: TestGateway;
let worker: ChildProcess;
let workerUrl = '';
let rtmpPort = 0;
let caster: Broadcaster | undefined;
let dropDb: (() => Promise<void>) | undefined;
const hlsDir = mkdtempSync(path.join(os.tmpdir(), 'flock-hls-'));
const prefix = `flocktest:${process.pid}:${Date.now().toString(36)}:`;

beforeAll(async () => {
  assertService('ffmpeg', ffmpegAvailable());
  assertService('postgres', await postgresAvailable());
  assertService('redis', await redisAvailable());
  const db = await createTestDatabase();
  dropDb = db.drop;
  t = await startTestGateway('postgres', 'node', { DATABASE_URL: db.url, REDIS_URL, REDIS_KEY_PREFIX: prefix, MEDIA_SERVICE: 'remote' });
  const w = await startLoggingProcess(
    'media/src/main.ts',
    { HOST: '127.0.0.1', PORT: '0', RTMP_PORT: '0', DATABASE_URL: db.url, REDIS_URL, REDIS_KEY_PREFIX: prefix, HLS_DIR: hlsDir, LOG_LEVEL: 'info' },
    (j) => (j.msg === 'flock media worker listening' ? { port: j.port as number, rtmpPort: j.rtmpPort as number } : undefined),
  );
  worker = w.child;
  workerUrl = `http://127.0.0.1:${w.ready.port}`;
  rtmpPort = w.ready.rtmpPort;
}, 120_000); // two processes start slowly on a busy machine

afterAll(async () => {
  await caster?.stop();
  if (worker && worker.exitCode === null) {
    const gone = new Promise((r) => worker.once('exit', r));
    worker.kill('SIGTERM');
    await gone;
  }
  await t?.close();
  await dropDb?.();
  rmSync(hlsDir, { recursive: true, force: true });
});

it('a standalone media worker ingests, packages and serves; the gateway hears live/ended and sends stop', async () => {
  expect((await t.api('GET', '/hls/1/master.m3u8')).status).toBe(404); // no origin on this gateway
  const owner = await t.register('rown');
  const fan = await t.register('rfan');
  await t.api('PUT', `/v1/users/${owner.handle}/follow`, { token: fan.accessToken });
  const socket = await connectSocket(t.url, fan.accessToken);
  try {
    const live = collect(socket, 'stream:live');
    const s = (await t.api('POST', '/v1/streams', { token: owner.accessToken, body: { title: 'remote' } })).body;
    const wrong = broadcast(`rtmp://127.0.0.1:${rtmpPort}/live/${s.id}_${'B'.repeat(32)}`, { seconds: 20 });
    expect(await wrong.exited).not.toBe(0);

    caster = broadcast(`rtmp://127.0.0.1:${rtmpPort}/live/${s.streamKey}`);
    expect((await live.next((e) => e.stream.id === s.id, 20_000)).stream.status).toBe('live');
    const master = await eventually(async () => {
      const r = await fetch(`${workerUrl}/hls/${s.id}/master.m3u8`);
      return r.status === 200 ? r : undefined;
    }, 20_000, 'the worker to serve the playlist');
    expect(master.headers.get('cache-control')).toBe('public, max-age=1');
    expect(master.headers.get('access-control-allow-origin')).toBe('*');
    expect(await master.text()).toContain('source/index.m3u8');
    const bad = await fetch(`${workerUrl}/hls/${s.id}/source/index.m3u8?_HLS_part=1`);
    expect(bad.status).toBe(400);
    expect((await fetch(`${workerUrl}/hls/${s.id}/source/..%2Fx`)).status).toBe(404);

    const ended = collect(socket, 'stream:ended');
    expect((await t.api('DELETE', `/v1/streams/${s.id}`, { token: owner.accessToken })).status).toBe(204);
    expect(await caster.exited).not.toBe(0); // the worker cut the broadcaster off
    await eventually(async () => (await fetch(`${workerUrl}/hls/${s.id}/master.m3u8`)).status === 404, 10_000, 'the files to be removed');
    expect((await ended.next((e) => e.streamId === s.id)).id).toBe(`ended:${s.id}`);
  } finally {
    socket.close();
  }
});
