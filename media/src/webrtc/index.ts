/** WebRTC ingest through mediasoup (docs/media-webrtc.md). */
export type { IngestSource } from '../ingest/ingest-source.ts';
export type { MediaLog } from './media-log.ts';
export { webRtcRequestSchemas } from './signaling-schemas.ts';
export { MEDIASOUP_VERSION, startWebRtcIngest, type WebRtcIngestOptions } from './start-webrtc-ingest.ts';
export { WebRtcError } from './webrtc-error.ts';
export { WebRtcIngestSource } from './webrtc-ingest-source.ts';
export { UnavailableSignaling } from './unavailable-signaling.ts';
export type { WebRtcSignaling } from './webrtc-signaling.ts';
export { cachedWorkerPath, resolveWorkerBin, type WorkerBin } from './worker-bin.ts';
