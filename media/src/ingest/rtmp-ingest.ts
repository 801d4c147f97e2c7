import { randomBytes } from 'node:crypto';
import net from 'node:net';
import Context from 'node-media-server/src/core/context.js';
import nmsLogger from 'node-media-server/src/core/logger.js';
import RtmpSession from 'node-media-server/src/session/rtmp_session.js';
import type { SourceCodecs } from '../transcode/ffmpeg-args.ts';
import type { MediaLog } from '../log.ts';
import type { IngestSource } from './ingest-source.ts';

/** The RTMP application broadcasters publish to: `rtmp://host:port/live/<streamKey>`. */
export const RTMP_APP = 'live';

export interface RtmpPublish {
  source: IngestSource;
  codecs: SourceCodecs;
}

export interface RtmpIngestOptions {
  host: string;
  port: number;
  log: MediaLog;
  /** Checks a stream key when its broadcaster publishes: the stream id, or null to refuse. */
  authorize: (streamKey: string) => Promise<string | null>;
  /** A publish was accepted (after `authorize`); the transcoder may start reading. */
  onPublish: (p: RtmpPublish) => void;
}

/** Packets held while the key is being checked: the codec headers come first and must not be lost. */
const MAX_HELD_PACKETS = 2000;

const FLV_VIDEO: Record<number, string> = { 7: 'h264', 12: 'hevc' };
const FLV_AUDIO: Record<number, string> = { 10: 'aac', 2: 'mp3' };

/**
 * RTMP ingest on node-media-server's protocol stack (handshake, chunking, AMF, FLV tags) behind
 * Flock's own listener: the listener binds port 0 in tests, never exits the process on errors,
 * and wraps each session so that a publish is accepted only after the stream key checks out
 * (packets are held meanwhile; a wrong key closes the connection before anything is transcoded).
 * ffmpeg reads an accepted stream back over loopback RTMP with a per-process pull token;
 * anyone else trying to play is refused.
 */
export class RtmpIngest {
  private server: net.Server | null = null;
  private readonly pullToken = randomBytes(16).toString('hex');
  private readonly publishers = new Map<string, net.Socket>();
  private readonly sockets = new Set<net.Socket>();
  /** ffmpeg's loopback play connections, by stream key: closed when the broadcaster goes, so ffmpeg sees the end and flushes. */
  private readonly pullers = new Map<string, Set<net.Socket>>();
  private boundPort = 0;

  constructor(private readonly o: RtmpIngestOptions) {
    // node-media-server logs to console.log; route it into ours.
    nmsLogger.level = 'trace';
    const nms = o.log.child({ component: 'node-media-server' });
    nmsLogger.log = (message: string, level = 'info') => {
      if (level === 'error') nms.warn({ nms: message }, 'rtmp');
      else nms.debug({ nms: message }, 'rtmp');
    };
  }

  get port(): number {
    return this.boundPort;
  }

  listen(): Promise<number> {
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.o.log.error({ err: err.message }, 'rtmp listener error'));
        this.boundPort = (server.address() as net.AddressInfo).port;
        resolve(this.boundPort);
      });
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {}); // a reset broadcaster is a normal end; the session logs it
    const session = new RtmpSession(socket);
    let held: Parameters<RtmpSession['onPacket']>[0][] | null = [];
    const forward = session.onPacket;
    session.onPacket = (packet) => {
      if (held === null) return forward(packet);
      // Copy: node-media-server parses every message of a chunk stream into one reused buffer
      // and hands out views of it, so a held packet's bytes would be overwritten by the next
      // message on its chunk stream (metadata, then AVC/AAC headers turned into frame data).
      if (held.length < MAX_HELD_PACKETS) held.push({ ...packet, data: Buffer.from(packet.data.subarray(0, packet.size)) });
    };
    const register = session.onPush;
    session.onPush = () => {
      void this.checkPublish(session, socket).then((streamId) => {
        if (streamId === null) {
          held = [];
          socket.destroy();
          return;
        }
        register();
        if (!session.isPublisher) {
          socket.destroy();
          return;
        }
        // The stream ends when this connection does; do not keep it open for a resume.
        session.broadcast.publishGraceMs = 0;
        const packets = held ?? [];
        held = null;
        for (const p of packets) forward(p);
        this.published(streamId, session, socket);
      });
    };
    const play = session.onPlay;
    session.onPlay = () => {
      const loopback = ['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(socket.remoteAddress ?? '');
      if (loopback && session.streamQuery.pull === this.pullToken) {
        held = null;
        const set = this.pullers.get(session.streamName) ?? new Set();
        this.pullers.set(session.streamName, set.add(socket));
        socket.once('close', () => set.delete(socket));
        play();
      } else {
        this.o.log.warn({ ip: socket.remoteAddress }, 'rtmp play refused: streams are watched over HLS');
        socket.destroy();
      }
    };
    session.run();
    Context.sessions.set(session.id, session);
    socket.on('close', () => Context.sessions.delete(session.id));
  }

  private async checkPublish(session: RtmpSession, socket: net.Socket): Promise<string | null> {
    const log = this.o.log;
    if (session.streamApp !== RTMP_APP) {
      log.warn({ app: session.streamApp, ip: socket.remoteAddress }, `rtmp publish refused: publish to /${RTMP_APP}/<stream key>`);
      return null;
    }
    let streamId: string | null;
    try {
      streamId = await this.o.authorize(session.streamName);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'rtmp publish refused: the stream key could not be checked');
      return null;
    }
    if (streamId === null) {
      log.warn({ ip: socket.remoteAddress }, 'rtmp publish refused: wrong or spent stream key');
      return null;
    }
    if (this.publishers.has(streamId) || socket.destroyed) {
      log.warn({ streamId }, 'rtmp publish refused: the stream already has a broadcaster');
      return null;
    }
    return streamId;
  }

  private published(streamId: string, session: RtmpSession, socket: net.Socket): void {
    this.publishers.set(streamId, socket);
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    void ended.then(() => {
      this.publishers.delete(streamId);
      for (const s of this.pullers.get(session.streamName) ?? []) s.end();
      this.pullers.delete(session.streamName);
    });
    const host = this.o.host === '0.0.0.0' || this.o.host === '::' ? '127.0.0.1' : this.o.host;
    const url = `rtmp://${host.includes(':') ? `[${host}]` : host}:${this.boundPort}/${RTMP_APP}/${session.streamName}?pull=${this.pullToken}`;
    const source: IngestSource = {
      streamId,
      kind: 'rtmp',
      // rw_timeout: a broadcaster that stalls this long ends ffmpeg's read; the supervisor decides what next.
      inputArgs: () => ['-rw_timeout', '5000000', '-i', url],
      ended,
      // The publisher's connection: `ended` resolves when it closes.
      disconnect: () => socket.destroy(),
    };
    const codecs: SourceCodecs = { video: FLV_VIDEO[session.videoCodec] ?? (session.videoCodec ? 'other' : null), audio: FLV_AUDIO[session.audioCodec] ?? (session.audioCodec ? 'other' : null) };
    this.o.log.info({ streamId, ip: socket.remoteAddress, codecs }, 'rtmp publish accepted');
    this.o.onPublish({ source, codecs });
  }
}
