import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Consumer, PlainTransport, Producer, Router } from 'mediasoup/types';
import type { IngestSource } from '../ingest/ingest-source.ts';
import { ffmpegSdp, type SdpStream } from './ffmpeg-sdp.ts';
import { freeRtpPortPair } from './udp-ports.ts';

/** ffmpeg needs a keyframe to start decoding; it binds its ports a moment after it starts. */
const KEYFRAME_REQUESTS_MS = [300, 1000, 2000, 4000];

/** Where ffmpeg listens for what mediasoup sends it: loopback, the gateway's own host. */
const FFMPEG_IP = '127.0.0.1';

interface Leg {
  transport: PlainTransport;
  consumer: Consumer;
  stream: SdpStream;
}

/**
 * One WebRTC broadcast as ffmpeg sees it. Each producer (audio, video) is consumed through its
 * own PlainTransport that sends plain RTP to ports ffmpeg listens on, described by one SDP file.
 *
 * `comedia: false` and `rtcpMux: false`: mediasoup is told where ffmpeg listens (RTP port, and
 * RTCP on RTP + 1, which is what ffmpeg's RTP demuxer binds). With comedia, mediasoup would
 * wait to learn ffmpeg's address from its first packet, and with rtcpMux it would expect RTCP on
 * the RTP port, where ffmpeg never sends it; either way RTP gets dropped.
 *
 * The consumers start paused and are resumed when ffmpeg is about to open the input
 * (`inputArgs()`), followed by a few keyframe requests so each (re)started ffmpeg gets a
 * decodable frame within a second or so instead of at the publisher's next natural keyframe.
 */
export class WebRtcIngestSource implements IngestSource {
  readonly kind = 'webrtc' as const;
  readonly ended: Promise<void>;
  private resolveEnded!: () => void;
  private closed = false;
  private timers = new Set<NodeJS.Timeout>();

  private constructor(
    readonly streamId: string,
    /** The SDP file ffmpeg reads. */
    readonly sdpPath: string,
    private readonly legs: Leg[],
    private readonly cutOff: () => void,
  ) {
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    for (const leg of legs) {
      // The publisher's producer closed (transport closed, browser gone): the broadcast is over.
      leg.consumer.on('producerclose', () => void this.close());
      leg.transport.on('routerclose', () => void this.close());
    }
  }

  /**
   * Pipes `producers` of one broadcast to ffmpeg; the SDP file goes into `dir`. `cutOff` closes
   * the publisher's WebRTC transport (what `disconnect` does besides ending this source).
   */
  static async create(router: Router, streamId: string, producers: Producer[], dir: string, cutOff: () => void): Promise<WebRtcIngestSource> {
    const legs: Leg[] = [];
    try {
      for (const producer of producers) {
        const { rtpPort, rtcpPort } = await freeRtpPortPair(FFMPEG_IP);
        const transport = await router.createPlainTransport({
          listenInfo: { protocol: 'udp', ip: FFMPEG_IP },
          rtcpMux: false,
          comedia: false,
        });
        await transport.connect({ ip: FFMPEG_IP, port: rtpPort, rtcpPort });
        const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities, paused: true });
        const codec = consumer.rtpParameters.codecs.find((c) => !c.mimeType.toLowerCase().endsWith('/rtx'));
        if (!codec) throw new Error(`consumer of ${producer.kind} producer ${producer.id} has no media codec`);
        legs.push({
          transport,
          consumer,
          stream: {
            kind: producer.kind,
            rtpPort,
            rtcpPort,
            payloadType: codec.payloadType,
            mimeType: codec.mimeType,
            clockRate: codec.clockRate,
            ...(codec.channels === undefined ? {} : { channels: codec.channels }),
            ...(codec.parameters ? { parameters: codec.parameters } : {}),
          },
        });
      }
      const sdpPath = path.join(dir, `webrtc-${streamId}-${Date.now().toString(36)}.sdp`);
      await writeFile(sdpPath, ffmpegSdp(FFMPEG_IP, legs.map((l) => l.stream)), { mode: 0o600 });
      return new WebRtcIngestSource(streamId, sdpPath, legs, cutOff);
    } catch (err) {
      for (const leg of legs) leg.transport.close();
      throw err;
    }
  }

  /** The negotiated codecs, e.g. `{ video: 'video/VP8', audio: 'audio/opus' }` (the supervisor decides copy vs transcode). */
  get codecs(): { audio?: string; video?: string } {
    return Object.fromEntries(this.legs.map((l) => [l.stream.kind, l.stream.mimeType]));
  }

  inputArgs(): string[] {
    if (!this.closed) {
      for (const leg of this.legs) void leg.consumer.resume().catch(() => {});
      for (const ms of KEYFRAME_REQUESTS_MS) {
        const t = setTimeout(() => {
          this.timers.delete(t);
          this.requestKeyFrame();
        }, ms);
        t.unref();
        this.timers.add(t);
      }
    }
    // -reorder_queue_size: RTP over loopback arrives in order; a small queue keeps latency low.
    return ['-protocol_whitelist', 'file,udp,rtp', '-reorder_queue_size', '64', '-i', this.sdpPath];
  }

  /** Asks the publisher for a keyframe (video only; audio has none). */
  requestKeyFrame(): void {
    for (const leg of this.legs) {
      if (leg.consumer.kind === 'video' && !leg.consumer.closed) void leg.consumer.requestKeyFrame().catch(() => {});
    }
  }

  /** Cuts the publisher off: its WebRTC transport closes, and with it this source. */
  disconnect(): void {
    this.cutOff();
    void this.close();
  }

  /** Ends the broadcast as ffmpeg sees it: stops sending, removes the SDP file, resolves `ended`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const leg of this.legs) leg.transport.close();
    await rm(this.sdpPath, { force: true });
    this.resolveEnded();
  }
}
