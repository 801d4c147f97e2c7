import type {
  WebRtcCapabilitiesResponse,
  WebRtcConnectRequest,
  WebRtcProduceRequest,
  WebRtcProduceResponse,
  WebRtcTransportRequest,
  WebRtcTransportResponse,
} from '@flock/client/protocol';

/**
 * The four signaling steps of a WebRTC publisher (mediasoup-client's send flow), each called
 * on behalf of one socket (`ownerId`: a transport answers only to the socket that created it;
 * `userId`: whose streams it may publish into).
 * Failures throw WebRtcError with a catalog code. Two implementations: MediasoupSignaling (a
 * worker is running) and UnavailableSignaling (no worker: every call fails with
 * FLOCK_ERR_UNAVAILABLE and the one-line reason, so the gateway offers RTMP only).
 */
export interface WebRtcSignaling {
  /** null when WebRTC ingest works; else "WebRTC ingest unavailable: …; RTMP only". */
  readonly unavailableReason: string | null;
  capabilities(): WebRtcCapabilitiesResponse;
  createTransport(ownerId: string, userId: string, req: WebRtcTransportRequest): Promise<WebRtcTransportResponse>;
  connectTransport(ownerId: string, req: WebRtcConnectRequest): Promise<void>;
  produce(ownerId: string, req: WebRtcProduceRequest): Promise<WebRtcProduceResponse>;
  /** The socket went away: closes its transports (which ends its broadcasts). */
  closeOwner(ownerId: string): void;
  close(): Promise<void>;
}
