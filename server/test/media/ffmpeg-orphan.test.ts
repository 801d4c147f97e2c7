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

/** The gateway's JSON log lines (of one stream). */
function logLines(streamId?: string): Record<string, unknown>[] {
  return gw.logs.flatMap((l) => {
    try {
      const j = JSON.parse(l) as Record<string, unknown>;
      return streamId === undefined || j.streamId === streamId ? [j] : [];
    } catch {
      return [];
    }
  });
}

/** The last JSON log line with this message (of this stream). */
const logged = (msg: string, streamId?: string): Record<string, unknown> | undefined => logLines(streamId).filter((j) => j.msg === msg).pop();

/** A new user's new stream (the API's answer to its creation). */
async function newStream(api: ReturnType<typeof makeApi>, tag: string, title: string) {
  const reg = await api('POST', '/v1/auth/register', { body: { handle: `${tag}${process.pid % 100000}`, email: `${tag}${process.pid}@example.test`, password: 'correct horse battery' } });
  expect(reg.status).toBe(201);
  const s = await api('POST', '/v1/streams', { token: reg.body.accessToken, body: { title } });
  expect(s.status).toBe(201);
  return s;
}

it('a broadcast that ends normally logs no error from its ffmpeg', async () => {
  const api = makeApi(gw.url);
  const s = await newStream(api, 'end', 'normal end');
  const b = broadcast(`${s.body.ingest.rtmp}/${s.body.streamKey}`);
  await eventually(async () => (await api('GET', `/hls/${s.body.id}/source/index.m3u8`)).status === 200, 15_000, 'the playlist');
  await b.stop(); // the encoder closes its RTMP connection
  const lines = () => logLines(s.body.id);
  await eventually(() => lines().some((j) => j.msg === 'stream ended'), 15_000, 'the stream to end');
  const said = lines().filter((j) => j.msg === 'ffmpeg says');
  expect(said.filter((j) => (j.level as number) >= 50)).toEqual([]);
  expect(said.some((j) => j.level === 30 && j.expected === true && /Input\/output error$/.test(j.ffmpeg as string))).toBe(true);
});

it('a SIGKILLed gateway leaves no ffmpeg behind', async () => {
  const api = makeApi(gw.url);
  const s = await newStream(api, 'orph', 'orphan check');
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
