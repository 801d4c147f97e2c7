import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MEDIASOUP_VERSION, resolveWorkerBin } from '@flock/media/webrtc';

/** Where build-mediasoup-worker.sh caches workers, as the script computes it. */
export const CACHE_HOME = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');

export const CHROMIUM_PATH = process.env.FLOCK_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Headless Chromium with a fake camera and microphone that needs no permission prompt. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // The ingest listens on 127.0.0.1 in tests; Chromium gathers no loopback candidates without this.
  '--allow-loopback-in-peer-connection',
];

export const MEDIA_HINTS = {
  ffmpeg: 'ffmpeg and ffprobe must be on PATH (apt-get install ffmpeg; bash .ci/run installs it)',
  chromium: `Chromium must be at ${CHROMIUM_PATH} (apt-get install chromium; bash .ci/run installs it), or set FLOCK_TEST_CHROMIUM`,
  mediasoup: `a mediasoup ${MEDIASOUP_VERSION} worker is needed: run media/scripts/build-mediasoup-worker.sh (bash .ci/run does), or set MEDIASOUP_WORKER_BIN`,
};

/** The suite fails at once with the install hint when a tool is missing (tests never skip). */
export function assertMediaTool(name: keyof typeof MEDIA_HINTS): void {
  const ok =
    name === 'ffmpeg'
      ? ['ffmpeg', 'ffprobe'].every((b) => spawnSync(b, ['-version'], { stdio: 'ignore' }).status === 0)
      : name === 'chromium'
        ? existsSync(CHROMIUM_PATH)
        : testWorkerBin() !== null;
  if (!ok) throw new Error(`${name} is required for this suite: ${MEDIA_HINTS[name]}`);
}

/** The worker the tests run: MEDIASOUP_WORKER_BIN, else the cached build. */
export function testWorkerBin(): string | null {
  const bin = resolveWorkerBin({ configured: process.env.MEDIASOUP_WORKER_BIN, cacheHome: CACHE_HOME, version: MEDIASOUP_VERSION });
  return bin.ok ? bin.path : null;
}
