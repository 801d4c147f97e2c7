import { FlockApiError, type CreatedStream } from '../../../src/index.ts';
import { client } from '../app.ts';
import { describeError, h } from '../dom.ts';
import { isMissingRoute, NO_MEDIA } from './live.ts';

/** What the page says when the gateway has no WebRTC ingest (no mediasoup worker): RTMP only. */
export const RTMP_ONLY = 'This server takes RTMP only (no WebRTC ingest): stream with OBS or an encoder using the details below.';

/**
 * Go live: creates a stream, shows the RTMP URL and stream key for OBS, and, where the gateway
 * has WebRTC ingest, publishes the camera and microphone from this browser with mediasoup-client,
 * signaling over the Flock socket (`webrtc:capabilities`, `webrtc:transport`, `webrtc:connect`,
 * `webrtc:produce`; docs/media-webrtc.md). mediasoup-client is loaded only when publishing.
 */
export function goLiveView(): HTMLElement {
  const status = h('p', { role: 'status' });
  const out = h('div', {});
  const form = h(
    'form',
    {
      'aria-label': 'Start a live stream',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const title = String(new FormData(form).get('title') ?? '').trim();
        status.textContent = 'Creating the stream…';
        try {
          const stream = await client.streams.create(title);
          status.textContent = '';
          out.replaceChildren(ingestView(stream));
        } catch (err) {
          status.textContent = isMissingRoute(err) ? NO_MEDIA : describeError(err);
          status.setAttribute('role', 'alert');
        }
      },
    },
    h('p', {}, h('label', { for: 'stream-title' }, 'Title'), h('input', { id: 'stream-title', name: 'title', required: true, maxlength: '100' })),
    h('button', { type: 'submit' }, 'Create stream'),
  );
  return h('section', {}, h('h2', {}, 'Go live'), form, status, out);
}

const isUnavailable = (err: unknown): boolean => err instanceof FlockApiError && err.code === 'FLOCK_ERR_UNAVAILABLE';

function ingestView(s: CreatedStream): HTMLElement {
  const rtmp = h(
    'div',
    { class: 'rtmp' },
    h('h3', {}, 'Stream from OBS or an encoder'),
    h('p', {}, h('label', { for: 'rtmp-url' }, 'Server'), h('input', { id: 'rtmp-url', readonly: true, value: s.ingest.rtmp })),
    h('p', {}, h('label', { for: 'rtmp-key' }, 'Stream key (secret, shown once)'), h('input', { id: 'rtmp-key', readonly: true, value: s.streamKey })),
    h('p', {}, h('a', { href: `#/live/${s.id}` }, 'Open the player')),
  );
  if (typeof RTCPeerConnection === 'undefined' || !navigator.mediaDevices) return rtmp;
  const video = h('video', { muted: true, autoplay: true, playsinline: true, 'aria-label': 'Camera preview' }) as HTMLVideoElement;
  const status = h('p', { role: 'status' });
  const start = h('button', { type: 'button' }, 'Start camera and go live');
  const camera = h('div', { class: 'webrtc' }, h('h3', {}, 'Stream from this browser'), video, start, status);
  // Without `ingest.webrtc` the gateway has no WebRTC ingest right now; it would answer UNAVAILABLE.
  if (!s.ingest.webrtc) {
    status.textContent = RTMP_ONLY;
    start.hidden = true;
    video.hidden = true;
  }
  let stop: (() => void) | null = null;
  start.addEventListener('click', async () => {
    start.disabled = true;
    status.textContent = 'Starting the camera…';
    try {
      stop = await publishWebRtc(s.id, video, (text) => (status.textContent = text));
      status.textContent = 'You are live.';
      start.hidden = true;
    } catch (err) {
      if (isUnavailable(err)) {
        // The gateway answered FLOCK_ERR_UNAVAILABLE (no mediasoup worker, or it died): RTMP only.
        status.textContent = RTMP_ONLY;
        start.hidden = true;
        video.hidden = true;
      } else {
        status.textContent = `WebRTC failed (${describeError(err)}); use the RTMP details below.`;
        start.disabled = false;
      }
    }
  });
  // Leaving the page ends the broadcast: the tracks stop and the transport closes.
  window.addEventListener('hashchange', () => stop?.(), { once: true });
  return h('div', {}, camera, rtmp);
}

/**
 * Publishes the camera and microphone into stream `streamId` with mediasoup-client's send flow,
 * signaled over the Flock socket. Resolves with a function that ends the broadcast.
 */
async function publishWebRtc(streamId: string, preview: HTMLVideoElement, progress: (text: string) => void): Promise<() => void> {
  // First the server: a gateway without WebRTC ingest answers UNAVAILABLE before any prompt.
  const { routerRtpCapabilities } = await client.call('webrtc:capabilities', {});
  // mediasoup-client is CommonJS: in esbuild's split chunk its exports are the namespace's `default`.
  const ns = await import('mediasoup-client');
  const { Device } = ns.default ?? ns;
  const device = new Device();
  await device.load({ routerRtpCapabilities: routerRtpCapabilities as never });
  const media = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
  preview.srcObject = media;
  const stopTracks = () => media.getTracks().forEach((t) => t.stop());
  let transport: { close(): void; closed: boolean } | null = null;
  try {
    progress('Connecting…');
    const t = await client.call('webrtc:transport', { streamId });
    const send = device.createSendTransport({
      id: t.transportId,
      iceParameters: t.iceParameters as never,
      iceCandidates: t.iceCandidates as never,
      dtlsParameters: t.dtlsParameters as never,
    });
    transport = send;
    send.on('connect', ({ dtlsParameters }, done, fail) => {
      client.call('webrtc:connect', { transportId: t.transportId, dtlsParameters: dtlsParameters as never }).then(() => done(), fail);
    });
    send.on('produce', ({ kind, rtpParameters }, done, fail) => {
      client.call('webrtc:produce', { transportId: t.transportId, kind, rtpParameters: rtpParameters as never }).then((r) => done({ id: r.producerId }), fail);
    });
    send.on('connectionstatechange', (state) => {
      if (state === 'failed' || state === 'disconnected') progress('The connection to the server was lost; the broadcast ended.');
    });
    for (const track of [...media.getVideoTracks(), ...media.getAudioTracks()]) await send.produce({ track });
  } catch (err) {
    transport?.close();
    stopTracks();
    preview.srcObject = null;
    throw err;
  }
  return () => {
    if (transport && !transport.closed) transport.close();
    stopTracks();
  };
}
