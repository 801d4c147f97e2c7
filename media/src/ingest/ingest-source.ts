/** A live input that ffmpeg can read; the transcoder supervisor opens it with these arguments. */
export interface IngestSource {
  readonly streamId: string;
  readonly kind: 'rtmp' | 'webrtc';
  /** ffmpeg input arguments, e.g. ['-protocol_whitelist', 'file,udp,rtp', '-i', '/tmp/x.sdp']. */
  inputArgs(): string[];
  /** Resolves when the broadcaster has gone (the ingest ended). */
  readonly ended: Promise<void>;
  /** Cuts the broadcaster off (the stream was stopped or deleted, or its publish refused); `ended` then resolves. */
  disconnect(): void;
}
