import type { CreatedStream } from '../../../src/index.ts';
import { client } from '../app.ts';
import { describeError, h } from '../dom.ts';
import { isMissingRoute, NO_MEDIA } from './live.ts';

/**
 * Go live: creates a stream, then either publishes the camera over WebRTC (when the media service
 * offers a WebRTC ingest URL; WHIP: POST the SDP offer, get the answer) or shows the RTMP URL and
 * stream key for OBS.
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

function ingestView(s: CreatedStream): HTMLElement {
  const rtmp = h(
    'div',
    { class: 'rtmp' },
    h('h3', {}, 'Stream from OBS or an encoder'),
    h('p', {}, h('label', { for: 'rtmp-url' }, 'Server'), h('input', { id: 'rtmp-url', readonly: true, value: s.ingest.rtmp })),
    h('p', {}, h('label', { for: 'rtmp-key' }, 'Stream key (secret, shown once)'), h('input', { id: 'rtmp-key', readonly: true, value: s.streamKey })),
    h('p', {}, h('a', { href: `#/live/${s.id}` }, 'Open the player')),
  );
  if (!s.ingest.webrtc || typeof RTCPeerConnection === 'undefined' || !navigator.mediaDevices) return rtmp;
  const video = h('video', { muted: true, autoplay: true, playsinline: true, 'aria-label': 'Camera preview' }) as HTMLVideoElement;
  const status = h('p', { role: 'status' });
  const start = h('button', { type: 'button' }, 'Start camera and go live');
  start.addEventListener('click', async () => {
    start.disabled = true;
    try {
      await publishWebRtc(s.ingest.webrtc!, s.streamKey, video);
      status.textContent = 'You are live.';
    } catch (err) {
      status.textContent = `WebRTC failed (${describeError(err)}); use the RTMP details below.`;
      start.disabled = false;
    }
  });
  return h('div', {}, h('h3', {}, 'Stream from this browser'), video, start, status, rtmp);
}

async function publishWebRtc(url: string, key: string, preview: HTMLVideoElement): Promise<RTCPeerConnection> {
  const media = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
  preview.srcObject = media;
  const pc = new RTCPeerConnection();
  for (const track of media.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' });
  await pc.setLocalDescription(await pc.createOffer());
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${key}` }, body: pc.localDescription!.sdp });
  if (!res.ok) throw new Error(`ingest answered ${res.status}`);
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  window.addEventListener('hashchange', () => (pc.close(), media.getTracks().forEach((t) => t.stop())), { once: true });
  return pc;
}
