import { write, type MediaDescription } from 'sdp-transform';

/** One RTP stream that mediasoup sends to ffmpeg: where ffmpeg listens, and the negotiated codec. */
export interface SdpStream {
  kind: 'audio' | 'video';
  /** UDP port ffmpeg binds for RTP. */
  rtpPort: number;
  /** UDP port ffmpeg binds for RTCP: rtpPort + 1, as ffmpeg's RTP demuxer assumes (no RTCP mux). */
  rtcpPort: number;
  payloadType: number;
  /** e.g. 'video/H264', 'video/VP8', 'audio/opus'. */
  mimeType: string;
  clockRate: number;
  channels?: number;
  /** Codec parameters as negotiated (become the fmtp line). */
  parameters?: Record<string, unknown>;
}

/**
 * The SDP "file" ffmpeg reads (`-protocol_whitelist file,udp,rtp -i x.sdp`) to receive the
 * streams a PlainTransport sends it: one m= section per stream, plain RTP/AVP (no SRTP), ffmpeg
 * listening at `ip`.
 */
export function ffmpegSdp(ip: string, streams: SdpStream[]): string {
  const ipVer = ip.includes(':') ? 6 : 4;
  const media: MediaDescription[] = streams.map((s) => {
    const [, codec = s.mimeType] = s.mimeType.split('/');
    const fmtp = Object.entries(s.parameters ?? {})
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(';');
    if (s.rtcpPort !== s.rtpPort + 1) throw new Error(`ffmpeg listens for RTCP on the RTP port + 1; got ${s.rtpPort}/${s.rtcpPort}`);
    return {
      type: s.kind,
      port: s.rtpPort,
      protocol: 'RTP/AVP',
      payloads: String(s.payloadType),
      rtp: [{ payload: s.payloadType, codec, rate: s.clockRate, ...(s.channels && s.channels > 1 ? { encoding: s.channels } : {}) }],
      fmtp: fmtp ? [{ payload: s.payloadType, config: fmtp }] : [],
      rtcp: { port: s.rtcpPort },
      direction: 'recvonly',
    };
  });
  return write({
    version: 0,
    origin: { username: '-', sessionId: 0, sessionVersion: 0, netType: 'IN', ipVer, address: ip },
    name: 'Flock WebRTC ingest',
    timing: { start: 0, stop: 0 },
    connection: { version: ipVer, ip },
    media,
  });
}
