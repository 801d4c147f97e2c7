import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, setOptions, types } from 'hls-parser';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { broadcast, eventually, type Broadcaster } from '../support/broadcaster.ts';
import { assertService, FFMPEG, ffmpegAvailable } from '../support/services.ts';
import { startTestGateway, type TestGateway } from '../support/test-gateway.ts';

/**
 * Regression: several broadcasters publishing to one gateway at once. node-media-server parses
 * every RTMP message of a chunk stream into one reused buffer; packets held while the stream key
 * was checked used to keep views of it, so the metadata and the AVC/AAC sequence headers handed
 * to ffmpeg were overwritten with later frames ("Unknown field", then ffmpeg's "Invalid data
 * found when processing input" and a restart loop). Pre-encoded `-c copy` pushers send their
 * first packets in a burst, which is when it struck; live x264 encoders are mixed in as well.
 */
const STREAMS = 6;
let t: TestGateway;
let dir: string;
const casters: Broadcaster[] = [];

beforeAll(async () => {
  assertService('ffmpeg', ffmpegAvailable());
  dir = mkdtempSync(join(tmpdir(), 'flock-ingest-'));
  // A pre-encoded clip with metadata, as a broadcaster re-streaming a file would send it.
  const made = spawnSync(FFMPEG, [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=330:sample_rate=48000',
    '-t', '20', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k',
    '-metadata', 'title=Flock clip', '-metadata', 'comment=regression test', join(dir, 'clip.mp4'),
  ]);
  expect(made.status, made.stderr?.toString()).toBe(0);
  t = await startTestGateway('pglite', 'uws');
  // Every playlist fetched must be valid LL-HLS (hls-parser throws instead of printing a warning).
  setOptions({ strictMode: true });
}, 60_000);

afterAll(async () => {
  setOptions({ strictMode: false });
  await Promise.all(casters.map((c) => c.stop()));
  await t?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it(`${STREAMS} concurrent broadcasters each get a growing, parseable playlist and no ffmpeg restart`, async () => {
  const owner = await t.register('cast');
  const streams = await Promise.all(
    Array.from({ length: STREAMS }, async (_, i) => {
      const r = await t.api('POST', '/v1/streams', { token: owner.accessToken, body: { title: `stream ${i}` } });
      expect(r.status).toBe(201);
      return r.body as { id: string; streamKey: string; ingest: { rtmp: string } };
    }),
  );
  // All at once: odd ones re-stream the clip unchanged, even ones encode live.
  streams.forEach((s, i) => {
    const url = `${s.ingest.rtmp}/${s.streamKey}`;
    casters.push(i % 2 ? broadcast(url, { input: join(dir, 'clip.mp4') }) : broadcast(url));
  });
  const media = t.gw.live.media!;
  const hls = (id: string) => t.api('GET', `/hls/${id}/source/index.m3u8`);
  const playlist = async (id: string) => {
    const r = await hls(id);
    return r.status === 200 ? (parse(r.text) as types.MediaPlaylist) : undefined;
  };
  const lastMsn = (pl: types.MediaPlaylist) => pl.mediaSequenceBase! + pl.segments.length - 1;

  const first = await Promise.all(streams.map((s) => eventually(() => playlist(s.id), 20_000, `stream ${s.id}'s playlist`)));
  const pids = streams.map((s) => media.session(s.id)?.ffmpegPid);
  // Growing: every playlist gains two more segments, and each stays parseable with complete segments.
  await Promise.all(
    streams.map((s, i) =>
      eventually(async () => {
        const pl = await playlist(s.id);
        return pl !== undefined && lastMsn(pl) >= lastMsn(first[i]!) + 2 && pl.segments.length >= 3;
      }, 20_000, `stream ${i} (${i % 2 ? 'clip' : 'live'}) to grow`),
    ),
  );
  for (const [i, s] of streams.entries()) {
    const pl = (await playlist(s.id))!;
    expect(pl.endlist).toBe(false);
    for (const seg of pl.segments.slice(0, -1)) {
      expect(seg.duration).toBeGreaterThan(0.5);
      expect(seg.discontinuity, `stream ${i} restarted`).toBeFalsy();
    }
    const session = media.session(s.id)!;
    expect(session.restarts, `stream ${i} restarts`).toBe(0);
    expect(session.ffmpegPid).toBe(pids[i]);
  }
  const metrics = await t.api('GET', '/metrics');
  expect(metrics.text).toMatch(/^flock_ffmpeg_restarts_total 0$/m);
}, 60_000);
