import os from 'node:os';
import path from 'node:path';
import type { WebRtcIngestOptions } from '@flock/media/webrtc';
import type { Config } from '../config.ts';

/** The host's first non-internal IPv4 address: what browsers on the network can reach by default. */
export function firstExternalIpv4(interfaces = os.networkInterfaces()): string | undefined {
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

/**
 * The settings part of startWebRtcIngest's options, from the config. The composition root adds
 * what only it has: who may publish into a stream (`authorize`, from the streams service) and
 * where a ready broadcast goes (`onSource`, the transcoder supervisor).
 */
export function webRtcIngestSettings(
  config: Config,
  interfaces = os.networkInterfaces(),
): Omit<WebRtcIngestOptions, 'authorize' | 'onSource' | 'log'> {
  const listenIp = config.WEBRTC_LISTEN_IP;
  const announced = config.WEBRTC_ANNOUNCED_ADDRESS ?? (WILDCARDS.has(listenIp) ? (firstExternalIpv4(interfaces) ?? '127.0.0.1') : undefined);
  return {
    ...(config.MEDIASOUP_WORKER_BIN ? { workerBin: config.MEDIASOUP_WORKER_BIN } : {}),
    cacheHome: config.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'),
    listenIp,
    ...(announced ? { announcedAddress: announced } : {}),
    rtcMinPort: config.WEBRTC_MIN_PORT,
    rtcMaxPort: config.WEBRTC_MAX_PORT,
    sdpDir: os.tmpdir(),
  };
}
