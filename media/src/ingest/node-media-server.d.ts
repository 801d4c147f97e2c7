// Types of the parts of node-media-server 4 that Flock uses (the package ships JavaScript only).

declare module 'node-media-server/src/session/rtmp_session.js' {
  import type { Socket } from 'node:net';

  interface NmsPacket {
    codec_type: number;
    flags: number;
    dts: number;
    pts: number;
    /** Payload bytes of this message: `data` may be longer (a view of the parser's reused buffer). */
    size: number;
    data: Buffer;
  }

  interface NmsBroadcast {
    publishGraceMs: number;
  }

  class RtmpSession {
    constructor(socket: Socket);
    readonly id: string;
    streamApp: string;
    streamName: string;
    streamPath: string;
    streamQuery: Record<string, string | string[] | undefined>;
    isPublisher: boolean;
    /** FLV codec ids from the publisher's onMetaData: video 7 = H.264, 12 = HEVC; audio 10 = AAC, 2 = MP3. */
    videoCodec: number;
    audioCodec: number;
    broadcast: NmsBroadcast;
    run(): void;
    onPush: () => void;
    onPlay: () => void;
    onPacket: (packet: NmsPacket) => void;
  }
  export = RtmpSession;
}

declare module 'node-media-server/src/core/context.js' {
  const Context: { sessions: Map<string, unknown> };
  export = Context;
}

declare module 'node-media-server/src/core/logger.js' {
  const logger: { level: string; log(message: string, level?: string): void };
  export = logger;
}
