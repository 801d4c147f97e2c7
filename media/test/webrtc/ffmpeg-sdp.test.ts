import { parse } from 'sdp-transform';
import { describe, expect, it } from 'vitest';
import { ffmpegSdp } from '../../src/webrtc/ffmpeg-sdp.ts';

describe('ffmpegSdp', () => {
  const sdp = ffmpegSdp('127.0.0.1', [
    { kind: 'video', rtpPort: 40000, rtcpPort: 40001, payloadType: 101, mimeType: 'video/VP8', clockRate: 90000 },
    {
      kind: 'audio',
      rtpPort: 40002,
      rtcpPort: 40003,
      payloadType: 100,
      mimeType: 'audio/opus',
      clockRate: 48000,
      channels: 2,
      parameters: { useinbandfec: 1, minptime: 10 },
    },
  ]);

  it('describes each stream as plain RTP/AVP where ffmpeg listens, RTCP on the next port', () => {
    const s = parse(sdp);
    expect(s.connection).toEqual({ version: 4, ip: '127.0.0.1' });
    expect(s.media.map((m) => [m.type, m.port, m.protocol, m.payloads, m.rtcp?.port])).toEqual([
      ['video', 40000, 'RTP/AVP', 101, 40001],
      ['audio', 40002, 'RTP/AVP', 100, 40003],
    ]);
    expect(s.media[0]!.rtp).toEqual([{ payload: 101, codec: 'VP8', rate: 90000 }]);
    expect(s.media[1]!.rtp).toEqual([{ payload: 100, codec: 'opus', rate: 48000, encoding: 2 }]);
    expect(s.media[1]!.fmtp).toEqual([{ payload: 100, config: 'useinbandfec=1;minptime=10' }]);
    expect(s.media[0]!.fmtp).toEqual([]);
  });

  it('uses CRLF line ends, as SDP requires', () => {
    expect(sdp.startsWith('v=0\r\n')).toBe(true);
    expect(sdp.split('\r\n').every((l) => !l.includes('\n'))).toBe(true);
  });

  it('refuses an RTCP port ffmpeg would not listen on', () => {
    expect(() => ffmpegSdp('127.0.0.1', [{ kind: 'video', rtpPort: 40000, rtcpPort: 40000, payloadType: 96, mimeType: 'video/VP8', clockRate: 90000 }])).toThrow(
      /RTP port \+ 1/,
    );
  });
});
