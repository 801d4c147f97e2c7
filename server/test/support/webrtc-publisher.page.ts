/**
 * Browser side of the WebRTC ingest tests, bundled with esbuild into the page Chromium loads
 * (server/test/support/webrtc-page-server.ts): publishes the fake camera and microphone with
 * mediasoup-client, signaling over the Flock socket events. Runs in the page, not in Node.
 */
import type { Ack, ClientToServerEvents, ServerToClientEvents } from '@flock/client/protocol';
import { Device } from 'mediasoup-client';
import type { RtpCapabilities, RtpParameters, DtlsParameters, IceCandidate, IceParameters } from 'mediasoup-client/types';
import { io, type Socket } from 'socket.io-client';

// The page's globals, typed here because the project compiles without the DOM library.
interface Track {
  kind: string;
  stop(): void;
}
declare const navigator: {
  mediaDevices: { getUserMedia(c: object): Promise<{ getVideoTracks(): Track[]; getAudioTracks(): Track[] }> };
};
declare const window: Record<string, unknown>;
declare const location: { origin: string };

export interface PublishOptions {
  /** The test server's handshake (`auth: {user}`); or `token` for a real gateway. */
  user?: string;
  /** An access token: sign in to a real gateway's socket (at `url`) as its owner would. */
  token?: string;
  /** The Socket.IO server; default: the page's own origin. */
  url?: string;
  streamId: string;
  /** Force this video codec (e.g. 'video/VP8'); default: the router's preference. */
  videoCodec?: string;
}

export interface PublishResult {
  videoCodec: string;
  audioCodec: string;
  handler: string;
  /** Whether this browser and the router share H264 (then the router's preference picks it). */
  canSendH264: boolean;
  transportId: string;
}

let socket: Socket<ServerToClientEvents, ClientToServerEvents> | null = null;

async function publish(o: PublishOptions): Promise<PublishResult> {
  const auth = o.token ? { token: o.token } : { user: o.user };
  const s: Socket<ServerToClientEvents, ClientToServerEvents> = io(o.url ?? location.origin, { auth, transports: ['websocket'], reconnection: false });
  socket = s;
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', reject);
  });
  const call = <R extends object>(event: string, req: object): Promise<R> =>
    new Promise((resolve, reject) => {
      (s as unknown as { emit(e: string, r: object, ack: (res: Ack<R>) => void): void }).emit(event, req, (res: Ack<R>) =>
        res.ok ? resolve(res) : reject(new Error(`${res.error.code}: ${res.error.message}`)),
      );
    });

  const { routerRtpCapabilities } = await call<{ routerRtpCapabilities: object }>('webrtc:capabilities', {});
  const device = new Device();
  await device.load({ routerRtpCapabilities: routerRtpCapabilities as RtpCapabilities });
  const t = await call<{ transportId: string; iceParameters: object; iceCandidates: object[]; dtlsParameters: object }>('webrtc:transport', { streamId: o.streamId });
  const transport = device.createSendTransport({
    id: t.transportId,
    iceParameters: t.iceParameters as IceParameters,
    iceCandidates: t.iceCandidates as IceCandidate[],
    dtlsParameters: t.dtlsParameters as DtlsParameters,
  });
  transport.on('connect', ({ dtlsParameters }: { dtlsParameters: DtlsParameters }, done: () => void, fail: (e: Error) => void) => {
    call('webrtc:connect', { transportId: t.transportId, dtlsParameters }).then(() => done(), fail);
  });
  transport.on(
    'produce',
    ({ kind, rtpParameters }: { kind: string; rtpParameters: RtpParameters }, done: (r: { id: string }) => void, fail: (e: Error) => void) => {
      call<{ producerId: string }>('webrtc:produce', { transportId: t.transportId, kind, rtpParameters }).then((r) => done({ id: r.producerId }), fail);
    },
  );

  const media = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240, frameRate: 15 }, audio: true });
  const [video] = media.getVideoTracks();
  const [audio] = media.getAudioTracks();
  const codec = o.videoCodec ? device.rtpCapabilities.codecs?.find((c) => c.mimeType.toLowerCase() === o.videoCodec!.toLowerCase()) : undefined;
  if (o.videoCodec && !codec) throw new Error(`this browser cannot send ${o.videoCodec}`);
  const vp = await transport.produce({ track: video as never, ...(codec ? { codec } : {}) });
  const ap = await transport.produce({ track: audio as never });
  return {
    videoCodec: vp.rtpParameters.codecs[0]!.mimeType,
    audioCodec: ap.rtpParameters.codecs[0]!.mimeType,
    handler: device.handlerName,
    canSendH264: device.rtpCapabilities.codecs?.some((c) => c.mimeType.toLowerCase() === 'video/h264') ?? false,
    transportId: t.transportId,
  };
}

window.flockPublish = publish;
window.flockDisconnect = () => socket?.disconnect();
/** Any acknowledged event on the publisher's socket; resolves with the ack. */
window.flockCall = (event: string, req: object): Promise<Ack<object>> =>
  new Promise((resolve) => (socket as unknown as { emit(e: string, r: object, ack: (res: Ack<object>) => void): void }).emit(event, req, resolve));
