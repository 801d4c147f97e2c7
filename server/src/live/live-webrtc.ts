import { startWebRtcIngest, UnavailableSignaling, type WebRtcSignaling } from '@flock/media/webrtc';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { webRtcIngestSettings } from '../realtime/webrtc-ingest-options.ts';
import type { LiveVideo } from './live-video.ts';

/**
 * WebRTC ingest of the gateway (docs/media-webrtc.md): with the in-process media service, a
 * mediasoup worker whose broadcasts go into the same live sessions as RTMP ones (go-live
 * notifications, HLS, ENDLIST); the owner of a stream publishes into it. Without a worker
 * startWebRtcIngest logs one warning and the result answers every `webrtc:*` call with
 * FLOCK_ERR_UNAVAILABLE: RTMP only. With media elsewhere (remote) or off there is no ffmpeg
 * here to feed, so the answer is UNAVAILABLE too (said once, at info level: it is configured so).
 */
export async function startLiveWebRtc(config: Config, live: LiveVideo, log: Logger): Promise<WebRtcSignaling> {
  const media = live.media;
  if (!media) {
    const reason = `WebRTC ingest unavailable: it runs in a gateway with the in-process media service (MEDIA_SERVICE=${config.MEDIA_SERVICE}); RTMP only`;
    log.info(reason);
    return new UnavailableSignaling(reason);
  }
  const wlog = log.child({ component: 'webrtc' });
  return startWebRtcIngest({
    ...webRtcIngestSettings(config),
    authorize: (userId, streamId) => live.streams.authorizePublisher(userId, streamId),
    onSource: (source) => {
      // Refused when ffmpeg is missing, the gateway is stopping, or an RTMP broadcast took the
      // stream meanwhile: the browser is cut off rather than left sending into nothing.
      if (!media.accept(source)) {
        wlog.warn({ streamId: source.streamId }, 'webrtc broadcast refused by the media service');
        source.disconnect();
      }
    },
    log: wlog,
  });
}
