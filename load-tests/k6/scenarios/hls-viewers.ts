import { check, fail, sleep } from 'k6';
import http from 'k6/http';
import { Counter, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { mediaToFetch, newViewerState, nextReload, parsePlaylist, reloadQuery, resolveUri, type MediaPlaylist } from '../../lib/hls-playlist.ts';
import { durationSetting, endpoints, intSetting, runId, seconds } from '../../lib/load-settings.ts';
import { authHeaders, registerUsers } from '../lib/auth.ts';
import { summaryHandler } from '../lib/summary.ts';

/**
 * hls-viewers: VIEWERS players watch one live stream from the HLS origin (`/hls/<id>/…`, DESIGN
 * §7) the way hls.js does: the multivariant playlist once, then one rendition's media playlist
 * again and again — a blocking reload (`_HLS_msn`/`_HLS_part`) when the origin offers
 * Low-Latency HLS, otherwise every half target duration — fetching the init section once and
 * every new part or segment. A viewer stalls when its playlist brings nothing new for three
 * target durations.
 *
 * The stream: HLS_URL (a playlist URL), or HLS_STREAM_ID (its playback URL is read from
 * GET /v1/streams/:id), or neither: setup creates a stream, prints its RTMP ingest URL and key,
 * and waits up to HLS_WAIT for someone to broadcast (e.g. ffmpeg, see docs/load-testing.md).
 *
 *   VIEWERS (100)  DURATION (2m)  HLS_WAIT (2m)  HLS_ORIGIN (replaces the playback URL's scheme and host)
 */

const env = endpoints(__ENV);
const VIEWERS = intSetting(__ENV, 'VIEWERS', 100, 1, 1_000_000);
const DURATION = durationSetting(__ENV, 'DURATION', '2m');
const HLS_WAIT = durationSetting(__ENV, 'HLS_WAIT', '2m');
const RUN = runId(__ENV, Date.now());

const playlistMs = new Trend('flock_hls_playlist_ms', true);
const blockingMs = new Trend('flock_hls_blocking_reload_ms', true);
const mediaMs = new Trend('flock_hls_media_ms', true);
const errors = new Counter('flock_hls_errors');
const stalls = new Counter('flock_hls_stalls');
const fetched = new Counter('flock_hls_media_fetched');

export const options: Options = {
  setupTimeout: `${seconds(HLS_WAIT) + 120}s`,
  scenarios: {
    viewers: { executor: 'constant-vus', vus: VIEWERS, duration: DURATION, gracefulStop: '30s' },
  },
  thresholds: {
    // SLO: an origin (or CDN) answer for a playlist p95 < 300 ms (not counting the time a
    // blocking reload waits for the next part, which is flock_hls_blocking_reload_ms).
    flock_hls_playlist_ms: ['p(95)<300'],
    // Parts, segments and init sections p95 < 500 ms: a part must arrive well within its own
    // duration for playback to keep up.
    flock_hls_media_ms: ['p(95)<500'],
    // Nothing fails, and no viewer waits three target durations for new media.
    flock_hls_errors: ['count==0'],
    flock_hls_stalls: ['count==0'],
  },
};

interface StreamAnswer {
  id: string;
  streamKey?: string;
  ingest?: { rtmp?: string };
  playback: { hls: string };
}

/**
 * The playback URL as this load generator must fetch it: relative ones against BASE_URL, and with
 * HLS_ORIGIN set, the scheme and host replaced (inside docker-compose the public host the gateways
 * name is not reachable; nginx is).
 */
function playbackUrl(url: string): string {
  const full = /^https?:\/\//i.test(url) ? url : `${env.baseUrl}${url.startsWith('/') ? '' : '/'}${url}`;
  const origin = (__ENV.HLS_ORIGIN || '').replace(/\/+$/, '');
  return origin ? full.replace(/^https?:\/\/[^/]+/i, origin) : full;
}

export function setup(): { playlistUrl: string } {
  let url = __ENV.HLS_URL || '';
  if (!url && __ENV.HLS_STREAM_ID) {
    const res = http.get(`${env.baseUrl}/v1/streams/${__ENV.HLS_STREAM_ID}`);
    if (res.status !== 200) fail(`GET /v1/streams/${__ENV.HLS_STREAM_ID}: HTTP ${res.status} ${String(res.body).slice(0, 200)}`);
    url = (res.json() as unknown as StreamAnswer).playback.hls;
  }
  if (!url) {
    const [broadcaster] = registerUsers(env.baseUrl, 'hb', RUN, 1);
    const res = http.post(`${env.baseUrl}/v1/streams`, JSON.stringify({ title: `k6 hls-viewers ${RUN}` }), { headers: authHeaders(broadcaster!.token) });
    if (res.status !== 201) fail(`POST /v1/streams: HTTP ${res.status} ${String(res.body).slice(0, 200)}`);
    const stream = res.json() as unknown as StreamAnswer;
    url = stream.playback.hls;
    console.log(
      `hls-viewers: created stream ${stream.id}; broadcast to it within ${HLS_WAIT}, e.g.\n` +
        `  ffmpeg -re -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine -c:v libx264 -g 60 -c:a aac -f flv '${stream.ingest?.rtmp ?? 'rtmp://<media>:1935/live'}/${stream.streamKey ?? '<key>'}'`,
    );
  }
  url = playbackUrl(url);
  const deadline = Date.now() + seconds(HLS_WAIT) * 1000;
  for (;;) {
    const res = http.get(url, { tags: { name: 'setup playlist' } });
    if (res.status === 200) break;
    if (Date.now() > deadline) fail(`${url} did not answer 200 within ${HLS_WAIT} (last: HTTP ${res.status}): is the stream live?`);
    sleep(2);
  }
  return { playlistUrl: url };
}

function getPlaylist(url: string, blocking: boolean): MediaPlaylist | null {
  const res = http.get(url, { tags: { name: blocking ? 'hls blocking reload' : 'hls playlist', hls: 'playlist' } });
  (blocking ? blockingMs : playlistMs).add(res.timings.duration);
  if (!check(res, { 'playlist 200': (r) => r.status === 200 })) {
    errors.add(1, { kind: 'playlist', status: String(res.status) });
    return null;
  }
  const p = parsePlaylist(res.body as string);
  if (p.kind !== 'media') {
    errors.add(1, { kind: 'playlist', status: 'not a media playlist' });
    return null;
  }
  return p;
}

export default function (data: { playlistUrl: string }): void {
  // Join: the multivariant playlist, then one rendition (a random one, spreading viewers).
  let mediaUrl = data.playlistUrl;
  const first = http.get(mediaUrl, { tags: { name: 'hls playlist', hls: 'playlist' } });
  playlistMs.add(first.timings.duration);
  if (first.status !== 200) {
    errors.add(1, { kind: 'playlist', status: String(first.status) });
    sleep(1);
    return;
  }
  const top = parsePlaylist(first.body as string);
  if (top.kind === 'multivariant') {
    if (top.variants.length === 0) fail('the multivariant playlist lists no variant');
    mediaUrl = resolveUri(mediaUrl, top.variants[Math.floor(Math.random() * top.variants.length)]!.uri);
  }
  const state = newViewerState();
  const sessionEnd = Date.now() + seconds(DURATION) * 1000;
  let playlist = top.kind === 'media' ? top : getPlaylist(mediaUrl, false);
  let lastNewMedia = Date.now();
  while (playlist !== null && Date.now() < sessionEnd) {
    const uris = mediaToFetch(playlist, state).map((u) => resolveUri(mediaUrl, u));
    if (uris.length > 0) {
      lastNewMedia = Date.now();
      const res = http.batch(uris.map((u) => ({ method: 'GET', url: u, params: { tags: { name: 'hls media', hls: 'media' } } })));
      for (const r of res) {
        mediaMs.add(r.timings.duration);
        fetched.add(1);
        if (!check(r, { 'media 200': (x) => x.status === 200 })) errors.add(1, { kind: 'media', status: String(r.status) });
      }
    } else if (Date.now() - lastNewMedia > 3 * playlist.targetDuration * 1000) {
      stalls.add(1);
      lastNewMedia = Date.now();
    }
    if (playlist.ended) break;
    const reload = nextReload(playlist);
    if (reload) {
      playlist = getPlaylist(`${mediaUrl}${mediaUrl.indexOf('?') === -1 ? '?' : '&'}${reloadQuery(reload)}`, true);
    } else {
      sleep(playlist.partTarget !== null ? playlist.partTarget : playlist.targetDuration / 2);
      playlist = getPlaylist(mediaUrl, false);
    }
  }
}

export const handleSummary = summaryHandler('hls-viewers', ['flock_hls_blocking_reload_ms', 'flock_hls_media_fetched', 'vus_max']);
