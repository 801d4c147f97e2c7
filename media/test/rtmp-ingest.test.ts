import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RtmpIngest, type RtmpPublish } from '../src/ingest/rtmp-ingest.ts';
import type { MediaLog } from '../src/log.ts';

const FFMPEG = process.env.FLOCK_TEST_FFMPEG ?? 'ffmpeg';
const lines: string[] = [];
const at = (level: string) => (obj: object, msg: string) => lines.push(`${level} ${msg} ${JSON.stringify(obj)}`);
const log: MediaLog = { debug: () => {}, info: at('info'), warn: at('warn'), error: at('error'), child: () => log };
const children = new Set<ChildProcess>();
let dir: string;
let ingest: RtmpIngest;
const published: RtmpPublish[] = [];

function run(args: string[]): { child: ChildProcess; exited: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(FFMPEG, ['-hide_banner', '-nostdin', '-loglevel', 'error', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve({ code, stderr });
    }),
  );
  return { child, exited };
}

beforeAll(async () => {
  const probe = spawnSync(FFMPEG, ['-version']);
  if (probe.status !== 0) throw new Error(`ffmpeg is needed for this test: apt-get install ffmpeg (or set FLOCK_TEST_FFMPEG)`);
  dir = mkdtempSync(join(tmpdir(), 'flock-rtmp-'));
  const made = spawnSync(FFMPEG, [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=330:sample_rate=48000',
    '-t', '8', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k',
    '-metadata', 'title=Flock clip', join(dir, 'clip.mp4'),
  ]);
  expect(made.status, made.stderr?.toString()).toBe(0);
  ingest = new RtmpIngest({
    host: '127.0.0.1',
    port: 0,
    log,
    // A slow key check (a busy database): the encoder's first packets are held meanwhile.
    authorize: async (key) => {
      await new Promise((r) => setTimeout(r, 400));
      return `s-${key}`;
    },
    onPublish: (p) => published.push(p),
  });
  await ingest.listen();
}, 30_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await ingest?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('hands ffmpeg intact metadata and codec headers from packets held during a slow key check, for concurrent publishers', async () => {
  const N = 4;
  const pushers = Array.from({ length: N }, (_, i) =>
    run(['-re', '-i', join(dir, 'clip.mp4'), '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${ingest.port}/live/k${i}`]),
  );
  const deadline = Date.now() + 10_000;
  while (published.length < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(published.map((p) => p.source.streamId).sort()).toEqual(Array.from({ length: N }, (_, i) => `s-k${i}`));
  for (const p of published) expect(p.codecs).toEqual({ video: 'h264', audio: 'aac' });
  // What the gateway's ffmpeg does: read the stream back and demux it (decoding the video too).
  const readers = published.map((p) => run([...p.source.inputArgs(), '-t', '2', '-map', '0:v', '-map', '0:a', '-c:a', 'copy', '-f', 'null', '-']).exited);
  for (const r of await Promise.all(readers)) {
    expect(r.stderr).not.toMatch(/Invalid data|error/i);
    expect(r.code).toBe(0);
  }
  expect(lines.filter((l) => /Unknown field/.test(l))).toEqual([]);
  for (const p of pushers) p.child.kill('SIGINT');
  await Promise.all(pushers.map((p) => p.exited));
}, 30_000);
