import { WebRtcError, webRtcRequestSchemas, type WebRtcSignaling } from '@flock/media/webrtc';
import { FlockError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { onAck, type FlockSocket, type SocketFeature } from './socket-feature.ts';

/** Signaling failures carry catalog codes; the socket layer answers FlockErrors as ack errors. */
async function mapped<R>(call: () => Promise<R> | R): Promise<R> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof WebRtcError) throw new FlockError(err.code, err.message);
    throw err;
  }
}

/**
 * WebRTC ingest signaling over the Flock socket (docs/media-webrtc.md): `webrtc:capabilities`,
 * `webrtc:transport`, `webrtc:connect`, `webrtc:produce`, each acknowledged. Transports belong
 * to the socket that created them and close with it, which ends their broadcasts.
 */
export class WebRtcFeature implements SocketFeature {
  readonly events = ['webrtc:capabilities', 'webrtc:transport', 'webrtc:connect', 'webrtc:produce'] as const;

  constructor(private readonly d: { signaling: WebRtcSignaling; log: Logger }) {}

  attach(socket: FlockSocket): void {
    const { signaling, log } = this.d;
    const owner = socket.id;
    const userId = socket.data.userId;
    const s = webRtcRequestSchemas;
    onAck(socket, 'webrtc:capabilities', s['webrtc:capabilities'], () => mapped(() => signaling.capabilities()), log);
    onAck(socket, 'webrtc:transport', s['webrtc:transport'], (req) => mapped(() => signaling.createTransport(owner, userId, req)), log);
    onAck(socket, 'webrtc:connect', s['webrtc:connect'], (req) => mapped(async () => (await signaling.connectTransport(owner, req), {})), log);
    onAck(socket, 'webrtc:produce', s['webrtc:produce'], (req) => mapped(() => signaling.produce(owner, req)), log);
    socket.on('disconnect', () => signaling.closeOwner(owner));
  }
}
