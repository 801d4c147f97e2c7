import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebRtcIngest, type WebRtcIngestOptions } from '../../src/webrtc/start-webrtc-ingest.ts';
import { WebRtcError } from '../../src/webrtc/webrtc-error.ts';

/** A log that remembers what was said. */
function recordingLog() {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (_obj: object, msg: string) => void lines.push({ level, msg });
  return { lines, log: { info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('WebRTC ingest without a usable mediasoup worker', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'flock-no-worker-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const options = (o: Partial<WebRtcIngestOptions>, log: WebRtcIngestOptions['log']): WebRtcIngestOptions => ({
    cacheHome: path.join(dir, 'empty-cache'),
    listenIp: '127.0.0.1',
    sdpDir: dir,
    authorize: async () => {},
    onSource: () => {
      throw new Error('no source can exist without a worker');
    },
    log,
    ...o,
  });

  it('reports RTMP only, once, and answers every signaling call with FLOCK_ERR_UNAVAILABLE', async () => {
    const { lines, log } = recordingLog();
    const signaling = await startWebRtcIngest(options({}, log));
    expect(signaling.unavailableReason).toMatch(/^WebRTC ingest unavailable: no mediasoup \d+\.\d+\.\d+ worker \(.*\); RTMP only$/);
    expect(lines).toEqual([{ level: 'warn', msg: signaling.unavailableReason }]);

    const calls: (() => unknown)[] = [
      () => signaling.capabilities(),
      () => signaling.createTransport('socket-1', 'user-1', { streamId: 's1' }),
      () => signaling.connectTransport('socket-1', { transportId: 't', dtlsParameters: {} }),
      () => signaling.produce('socket-1', { transportId: 't', kind: 'video', rtpParameters: {} }),
    ];
    for (const call of calls) {
      const err = await (async () => call())().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WebRtcError);
      expect(err).toMatchObject({ code: 'FLOCK_ERR_UNAVAILABLE', message: signaling.unavailableReason });
    }
    // Nothing more was logged by the calls: the reason is said once, at start.
    expect(lines).toHaveLength(1);
    signaling.closeOwner('socket-1');
    await signaling.close();
  });

  it('reports RTMP only when the configured worker is not a mediasoup worker, instead of crashing', async () => {
    const fake = path.join(dir, 'fake-worker');
    await writeFile(fake, '#!/bin/sh\necho "not a mediasoup worker" >&2\nexit 3\n', { mode: 0o755 });
    const { lines, log } = recordingLog();
    const signaling = await startWebRtcIngest(options({ workerBin: fake }, log));
    expect(signaling.unavailableReason).toMatch(new RegExp(`^WebRTC ingest unavailable: mediasoup worker ${fake} did not start \\(.+\\); RTMP only$`));
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
  });

  it('reports a MEDIASOUP_WORKER_BIN that does not exist', async () => {
    const { log } = recordingLog();
    const signaling = await startWebRtcIngest(options({ workerBin: path.join(dir, 'nope') }, log));
    expect(signaling.unavailableReason).toBe(`WebRTC ingest unavailable: MEDIASOUP_WORKER_BIN: ${path.join(dir, 'nope')} does not exist; RTMP only`);
  });
});
