import { randomUUID } from 'node:crypto';
import type {
  MediasoupObject,
  WebRtcCapabilitiesResponse,
  WebRtcConnectRequest,
  WebRtcMediaKind,
  WebRtcProduceRequest,
  WebRtcProduceResponse,
  WebRtcTransportRequest,
  WebRtcTransportResponse,
} from '@flock/client/protocol';
import type { DtlsParameters, Producer, Router, RtpParameters, WebRtcTransport, Worker } from 'mediasoup/types';
import type { MediaLog } from './media-log.ts';
import { WebRtcError } from './webrtc-error.ts';
import { WebRtcIngestSource } from './webrtc-ingest-source.ts';
import type { WebRtcSignaling } from './webrtc-signaling.ts';

export interface MediasoupSignalingOptions {
  /** Address the WebRTC transports bind (e.g. 0.0.0.0). */
  listenIp: string;
  /** Address given to browsers in ICE candidates when listenIp is a wildcard or behind NAT. */
  announcedAddress?: string;
  /** Directory for the SDP files ffmpeg reads. */
  sdpDir: string;
  /** Throws WebRtcError (FORBIDDEN, NOT_FOUND, …) unless `userId` may publish into `streamId`. */
  authorize(userId: string, streamId: string): Promise<void>;
  /** A broadcast is ready for ffmpeg (every announced kind produced). */
  onSource(source: WebRtcIngestSource): void;
  log: MediaLog;
}

interface Publication {
  ownerId: string;
  streamId: string;
  kinds: WebRtcMediaKind[];
  transport: WebRtcTransport;
  producers: Map<WebRtcMediaKind, Producer>;
  source: WebRtcIngestSource | null;
  /** connect() was called (mediasoup's dtlsState stays 'new' until the browser's DTLS arrives). */
  connected: boolean;
}

/** mediasoup's argument checks throw TypeError (and UnsupportedError for codecs the router lacks). */
const isInputError = (err: unknown): err is Error => err instanceof TypeError || (err instanceof Error && err.name === 'UnsupportedError');

/**
 * WebRTC ingest on one mediasoup worker with one router. One router is enough (a worker uses
 * one core; each broadcast costs a WebRtcTransport and, per kind, a PlainTransport) and keeps
 * every producer consumable where it was produced: a second router on the same worker could not
 * be reached with pipeToRouter.
 */
export class MediasoupSignaling implements WebRtcSignaling {
  private readonly publications = new Map<string, Publication>();
  private readonly liveStreams = new Map<string, string>();
  private deadReason: string | null = null;

  constructor(
    private readonly worker: Worker,
    private readonly router: Router,
    private readonly o: MediasoupSignalingOptions,
  ) {
    worker.on('died', (err) => {
      this.deadReason = `WebRTC ingest unavailable: the mediasoup worker died (${err.message}); RTMP only`;
      o.log.error({ err, pid: worker.pid }, this.deadReason);
      this.closeAll();
    });
  }

  get unavailableReason(): string | null {
    return this.deadReason;
  }

  private alive(): void {
    if (this.deadReason) throw new WebRtcError('FLOCK_ERR_UNAVAILABLE', this.deadReason);
  }

  capabilities(): WebRtcCapabilitiesResponse {
    this.alive();
    return { routerRtpCapabilities: this.router.rtpCapabilities as unknown as MediasoupObject };
  }

  async createTransport(ownerId: string, userId: string, req: WebRtcTransportRequest): Promise<WebRtcTransportResponse> {
    this.alive();
    await this.o.authorize(userId, req.streamId);
    if (this.liveStreams.has(req.streamId)) throw new WebRtcError('FLOCK_ERR_INGEST_BUSY', 'The stream already has a live WebRTC ingest');
    const id = randomUUID();
    // Reserved before the await, so two racing requests for one stream cannot both pass.
    this.liveStreams.set(req.streamId, id);
    let transport: WebRtcTransport;
    try {
      const listen = { ip: this.o.listenIp, ...(this.o.announcedAddress ? { announcedAddress: this.o.announcedAddress } : {}) };
      transport = await this.router.createWebRtcTransport({
        listenInfos: [
          { protocol: 'udp', ...listen },
          { protocol: 'tcp', ...listen },
        ],
        preferUdp: true,
        appData: { streamId: req.streamId },
      });
    } catch (err) {
      this.liveStreams.delete(req.streamId);
      throw err;
    }
    const pub: Publication = {
      ownerId,
      streamId: req.streamId,
      kinds: req.kinds ?? ['audio', 'video'],
      transport,
      producers: new Map(),
      source: null,
      connected: false,
    };
    this.publications.set(id, pub);
    // The browser went away without a word (tab killed, network lost): ICE consent or DTLS fails.
    transport.on('icestatechange', (state) => state === 'disconnected' && this.closeTransport(id));
    transport.on('dtlsstatechange', (state) => (state === 'failed' || state === 'closed') && this.closeTransport(id));
    this.o.log.info({ streamId: req.streamId, transportId: id, userId }, 'webrtc transport created');
    return {
      transportId: id,
      iceParameters: transport.iceParameters as unknown as MediasoupObject,
      iceCandidates: transport.iceCandidates as unknown as MediasoupObject[],
      dtlsParameters: transport.dtlsParameters as unknown as MediasoupObject,
    };
  }

  private owned(ownerId: string, transportId: string): Publication {
    this.alive();
    const pub = this.publications.get(transportId);
    // Someone else's transport looks exactly like a missing one.
    if (!pub || pub.ownerId !== ownerId) throw new WebRtcError('FLOCK_ERR_NOT_FOUND', 'No such WebRTC transport');
    return pub;
  }

  async connectTransport(ownerId: string, req: WebRtcConnectRequest): Promise<void> {
    const pub = this.owned(ownerId, req.transportId);
    if (pub.connected) throw new WebRtcError('FLOCK_ERR_VALIDATION', 'The transport is already connected');
    pub.connected = true;
    try {
      await pub.transport.connect({ dtlsParameters: req.dtlsParameters as unknown as DtlsParameters });
    } catch (err) {
      pub.connected = false;
      if (isInputError(err)) throw new WebRtcError('FLOCK_ERR_VALIDATION', `Invalid dtlsParameters: ${err.message}`);
      throw err;
    }
  }

  async produce(ownerId: string, req: WebRtcProduceRequest): Promise<WebRtcProduceResponse> {
    const pub = this.owned(ownerId, req.transportId);
    if (!pub.kinds.includes(req.kind)) throw new WebRtcError('FLOCK_ERR_VALIDATION', `This transport was created for ${pub.kinds.join(' and ')} only`);
    if (pub.producers.has(req.kind)) throw new WebRtcError('FLOCK_ERR_VALIDATION', `The ${req.kind} of this stream is already produced`);
    let producer: Producer;
    try {
      producer = await pub.transport.produce({ kind: req.kind, rtpParameters: req.rtpParameters as unknown as RtpParameters });
    } catch (err) {
      if (isInputError(err)) throw new WebRtcError('FLOCK_ERR_VALIDATION', `Invalid rtpParameters: ${err.message}`);
      throw err;
    }
    pub.producers.set(req.kind, producer);
    if (pub.kinds.every((k) => pub.producers.has(k))) {
      const source = await WebRtcIngestSource.create(this.router, pub.streamId, [...pub.producers.values()], this.o.sdpDir, () =>
        this.closeTransport(req.transportId),
      );
      if (!this.publications.has(req.transportId)) {
        // The publisher left while the pipes were being built.
        await source.close();
      } else {
        pub.source = source;
        this.o.log.info({ streamId: pub.streamId, codecs: source.codecs, sdp: source.sdpPath }, 'webrtc ingest live');
        this.o.onSource(source);
      }
    }
    return { producerId: producer.id };
  }

  private closeTransport(transportId: string): void {
    const pub = this.publications.get(transportId);
    if (!pub) return;
    this.publications.delete(transportId);
    if (this.liveStreams.get(pub.streamId) === transportId) this.liveStreams.delete(pub.streamId);
    // Closing the transport closes its producers; the source's consumers see that and end it.
    pub.transport.close();
    void pub.source?.close();
    this.o.log.info({ streamId: pub.streamId, transportId }, 'webrtc transport closed');
  }

  closeOwner(ownerId: string): void {
    for (const [id, pub] of this.publications) if (pub.ownerId === ownerId) this.closeTransport(id);
  }

  private closeAll(): void {
    for (const id of [...this.publications.keys()]) this.closeTransport(id);
  }

  async close(): Promise<void> {
    this.closeAll();
    this.worker.close();
  }
}
