import { FlockApiError, type LiveStream } from '../../../src/index.ts';
import { client } from '../app.ts';
import { describeError, h } from '../dom.ts';

/** Live video needs the media service (DESIGN §7); without it the routes answer 404 and the page says so. */
export const NO_MEDIA = 'Live video is not available on this server yet (the media service is not running).';

export function isMissingRoute(err: unknown): boolean {
  return err instanceof FlockApiError && (err.code === 'FLOCK_ERR_ROUTE_NOT_FOUND' || err.code === 'FLOCK_ERR_METHOD_NOT_ALLOWED');
}

export function liveListView(): HTMLElement {
  const list = h('ul', { class: 'streams', 'aria-label': 'Live streams' });
  const status = h('p', { role: 'status', class: 'muted' }, 'Loading…');
  const load = () =>
    client.streams.list({ live: true }).then(
      (page) => {
        status.textContent = page.items.length ? '' : 'Nobody is live right now.';
        list.replaceChildren(...page.items.map(streamItem));
      },
      (err: unknown) => {
        status.textContent = isMissingRoute(err) ? NO_MEDIA : describeError(err);
        status.setAttribute('role', 'alert');
      },
    );
  // `stream:live` / `stream:ended` are newer than this SDK's protocol module: listen by name.
  const offLive = client.onEvent('stream:live', () => void load());
  const offEnded = client.onEvent('stream:ended', () => void load());
  window.addEventListener('hashchange', () => (offLive(), offEnded()), { once: true });
  void load();
  return h('section', {}, h('h2', {}, 'Live now'), status, list, h('p', {}, h('a', { href: '#/go-live' }, 'Go live yourself')));
}

function streamItem(s: LiveStream): HTMLElement {
  return h(
    'li',
    { 'data-stream-id': s.id },
    h('a', { href: `#/live/${s.id}` }, s.title || 'Untitled stream'),
    h('span', { class: 'muted' }, ` by @${s.owner.handle} · ${s.viewers} watching`),
  );
}

export const NOT_LIVE = 'This stream is not live (or has no video yet).';

/**
 * The player: the stream's playback URL from GET /v1/streams/:id (its multivariant playlist), in
 * hls.js (loaded on demand) where Media Source Extensions exist, the native player elsewhere (iOS).
 */
export function playerView(streamId: string): HTMLElement {
  const video = h('video', { controls: true, autoplay: true, muted: true, playsinline: true, 'aria-label': 'Live video' }) as HTMLVideoElement;
  const status = h('p', { role: 'status', class: 'muted' }, 'Loading the stream…');
  const title = h('h2', {}, 'Watching');
  const section = h('section', { class: 'player' }, title, video, status, h('p', {}, h('a', { href: '#/live' }, 'All live streams')));
  client.streams.get(streamId).then(
    (s) => {
      title.textContent = s.title || 'Untitled stream';
      // An idle stream has no playlist yet; an ended one plays its recording (the playlist has ENDLIST).
      if (s.status === 'idle') status.textContent = NOT_LIVE;
      else void attach(video, s.playback.hls, status);
    },
    (err: unknown) => {
      status.textContent = isMissingRoute(err) ? NO_MEDIA : err instanceof FlockApiError && err.status === 404 ? 'No such stream.' : describeError(err);
      status.setAttribute('role', 'alert');
    },
  );
  return section;
}

async function attach(video: HTMLVideoElement, url: string, status: HTMLElement): Promise<void> {
  const { default: Hls } = await import('hls.js/light');
  if (!Hls.isSupported()) {
    if (!video.canPlayType('application/vnd.apple.mpegurl')) {
      status.textContent = 'This browser cannot play HLS video.';
      return;
    }
    video.addEventListener('error', () => (status.textContent = NOT_LIVE));
    video.addEventListener('loadedmetadata', () => (status.textContent = ''));
    video.src = url;
    return;
  }
  const hls = new Hls({ lowLatencyMode: true });
  hls.on(Hls.Events.ERROR, (_e, data) => {
    // hls.js retries a missing playlist for a while (a stream may be about to start): say so at once.
    if (data.response?.code === 404) status.textContent = NOT_LIVE;
    else if (data.fatal) status.textContent = `Playback error: ${data.details}`;
  });
  hls.on(Hls.Events.MANIFEST_PARSED, () => (status.textContent = ''));
  hls.loadSource(url);
  hls.attachMedia(video);
  window.addEventListener('hashchange', () => hls.destroy(), { once: true });
}
