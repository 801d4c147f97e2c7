import { afterAll, beforeAll, expect, it } from 'vitest';
import { broadcast, eventually, processGone, type Broadcaster } from '../support/broadcaster.ts';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';
import { assertService, ffmpegAvailable } from '../support/services.ts';
import { makeApi } from '../support/test-gateway.ts';

let gw: GatewayProcess;
let caster: Broadcaster | undefined;

beforeAll(async () => {
  assertService('ffmpeg', ffmpegAvailable());
  gw = await startGatewayProcess({ DATA_DIR: 'memory://', RTMP_PORT: '0' });
}, 120_000); // a gateway process starts slowly on a busy machine

afterAll(async () => {
  await caster?.stop();
  if (gw?.child.exitCode === null) gw.child.kill('SIGKILL');
});

/** The last JSON log line with this message (of this stream). */
function logged(msg: string, streamId?: string): Record<string, unknown> | undefined {
  return gw.logs
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    })
    .filter((j) => j.msg === msg && (streamId === undefined || j.streamId === streamId))
    .pop();
}

it('a broadcast that ends normally logs no error from its ffmpeg', async () => {
  const api = makeApi(gw.url);
  const reg = await api('POST', '/v1/auth/register', { body: { handle: `end${process.pid % 100000}`, email: `e${process.pid}@example.test`, password: 'correct horse battery' } });
  expect(reg.status).toBe(201);
  const s = await api('POST', '/v1/streams', { token: reg.body.accessToken, body: { title: 'normal end' } });
  expect(s.status).toBe(201);
  const b = broadcast(`${s.body.ingest.rtmp}/${s.body.streamKey}`);
  await eventually(async () => (await api('GET', `/hls/${s.body.id}/source/index.m3u8`)).status === 200, 15_000, 'the playlist');
  await b.stop(); // the encoder closes its RTMP connection
  const lines = () =>
    gw.logs.flatMap((l) => {
      try {
        const j = JSON.parse(l) as Record<string, unknown>;
        return j.streamId === s.body.id ? [j] : [];
      } catch {
        return [];
      }
    });
  await eventually(() => lines().some((j) => j.msg === 'stream ended'), 15_000, 'the stream to end');
  const said = lines().filter((j) => j.msg === 'ffmpeg says');
  expect(said.filter((j) => (j.level as number) >= 50)).toEqual([]);
  expect(said.some((j) => j.level === 30 && j.expected === true && /Input\/output error$/.test(j.ffmpeg as string))).toBe(true);
});

it('a SIGKILLed gateway leaves no ffmpeg behind', async () => {
  const api = makeApi(gw.url);
  const reg = await api('POST', '/v1/auth/register', { body: { handle: `orph${process.pid % 100000}`, email: `o${process.pid}@example.test`, password: 'correct horse battery' } });
  expect(reg.status).toBe(201);
  const s = await api('POST', '/v1/streams', { token: reg.body.accessToken, body: { title: 'orphan check' } });
  expect(s.status).toBe(201);
  caster = broadcast(`${s.body.ingest.rtmp}/${s.body.streamKey}`);
  const started = await eventually(() => logged('ffmpeg started', s.body.id), 15_000, 'ffmpeg to start');
  const pid = started.ffmpegPid as number;
  expect(processGone(pid)).toBe(false);
  // Packaging is under way: the media playlist exists.
  await eventually(async () => (await api('GET', `/hls/${s.body.id}/source/index.m3u8`)).status === 200, 15_000, 'the playlist');

  gw.child.kill('SIGKILL'); // no shutdown hook runs
  await gw.exited();
  await eventually(() => processGone(pid), 10_000, `ffmpeg ${pid} to exit after its gateway died`);
  // The broadcaster lost its server too.
  expect(await caster.exited).not.toBe(0);
});
