import { createRequire } from 'node:module';
import path from 'node:path';
import * as mediasoup from 'mediasoup';
import type { Worker } from 'mediasoup/types';
import type { MediaLog } from './media-log.ts';
import { MediasoupSignaling, type MediasoupSignalingOptions } from './mediasoup-signaling.ts';
import { ROUTER_CODECS } from './router-codecs.ts';
import { UnavailableSignaling } from './unavailable-signaling.ts';
import { resolveWorkerBin } from './worker-bin.ts';
import type { WebRtcSignaling } from './webrtc-signaling.ts';

const require = createRequire(import.meta.url);

/** The installed mediasoup version (the worker binary must be built from the same one). */
export const MEDIASOUP_VERSION: string = mediasoup.version;

/** A worker that never says it is ready (wrong binary) must not hang the gateway's start. */
const WORKER_START_TIMEOUT_MS = 20_000;

export interface WebRtcIngestOptions extends Omit<MediasoupSignalingOptions, 'log'> {
  /** MEDIASOUP_WORKER_BIN, when set. */
  workerBin?: string;
  /** Where build-mediasoup-worker.sh caches workers ($XDG_CACHE_HOME, else ~/.cache). */
  cacheHome: string;
  /** UDP/TCP port range of the WebRTC transports (mediasoup's default: 10000–59999). */
  rtcMinPort?: number;
  rtcMaxPort?: number;
  log: MediaLog;
}

/**
 * mediasoup reads the worker path once, from MEDIASOUP_WORKER_BIN, when its Worker module loads.
 * Flock's configuration is passed in rather than read from the environment, so the resolved path
 * is set on that module's export, which mediasoup reads each time it spawns a worker; the
 * package's public `workerBin` getter reads the same export and confirms it took effect.
 */
function useWorkerBin(bin: string): void {
  const lib = path.dirname(require.resolve('mediasoup'));
  (require(path.join(lib, 'Worker.js')) as { workerBin: string }).workerBin = bin;
  const seen = (require('mediasoup') as { workerBin: string }).workerBin;
  if (seen !== bin) throw new Error(`mediasoup ${MEDIASOUP_VERSION} did not take the worker path (it uses ${seen})`);
}

async function createWorker(o: WebRtcIngestOptions): Promise<Worker> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the worker did not start within ${WORKER_START_TIMEOUT_MS / 1000} s`)), WORKER_START_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      mediasoup.createWorker({
        logLevel: 'warn',
        ...(o.rtcMinPort === undefined ? {} : { rtcMinPort: o.rtcMinPort }),
        ...(o.rtcMaxPort === undefined ? {} : { rtcMaxPort: o.rtcMaxPort }),
        // Debian 12's kernel may have io_uring; the worker is built without liburing anyway.
        disableLiburing: true,
      }),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts WebRTC ingest: a mediasoup worker and its router, behind the signaling functions.
 * Never throws for a missing or broken worker: the result is then UnavailableSignaling, whose
 * reason ("WebRTC ingest unavailable: …; RTMP only") is logged here once, and which answers
 * every signaling call with FLOCK_ERR_UNAVAILABLE.
 */
export async function startWebRtcIngest(o: WebRtcIngestOptions): Promise<WebRtcSignaling> {
  const unavailable = (why: string): WebRtcSignaling => {
    const reason = `WebRTC ingest unavailable: ${why}; RTMP only`;
    o.log.warn({ mediasoup: MEDIASOUP_VERSION }, reason);
    return new UnavailableSignaling(reason);
  };
  const bin = resolveWorkerBin({ configured: o.workerBin, cacheHome: o.cacheHome, version: MEDIASOUP_VERSION });
  if (!bin.ok) return unavailable(bin.reason);
  let worker: Worker;
  try {
    useWorkerBin(bin.path);
    worker = await createWorker(o);
  } catch (err) {
    return unavailable(`mediasoup worker ${bin.path} did not start (${(err as Error).message})`);
  }
  try {
    const router = await worker.createRouter({ mediaCodecs: ROUTER_CODECS });
    o.log.info({ mediasoup: MEDIASOUP_VERSION, workerBin: bin.path, pid: worker.pid }, 'WebRTC ingest ready');
    return new MediasoupSignaling(worker, router, o);
  } catch (err) {
    worker.close();
    return unavailable(`the mediasoup router could not be created (${(err as Error).message})`);
  }
}
