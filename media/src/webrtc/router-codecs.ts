import type { RouterRtpCodecCapability } from 'mediasoup/types';

/**
 * What the router accepts from Chromium publishers. Order matters: mediasoup-client picks the
 * first router codec the browser can send, so H264 (which HLS can carry without transcoding) is
 * preferred, VP8 is the fallback every Chromium has; Opus is the only audio codec WebRTC
 * browsers all send. 42e01f (Constrained Baseline 3.1) with packetization-mode 1 is the H264
 * profile Chromium's encoders offer everywhere.
 */
export const ROUTER_CODECS: RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48_000, channels: 2 },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90_000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90_000 },
];
