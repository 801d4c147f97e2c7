import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Ack } from '@flock/client/protocol';
import { startWebRtcIngest, WebRtcError, type WebRtcIngestSource, type WebRtcSignaling } from '@flock/media/webrtc';
import { parse } from 'sdp-transform';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertMediaTool, CACHE_HOME, testWorkerBin } from '../support/media-tools.ts';
import { startWebRtcPageServer, type WebRtcPageServer } from '../support/webrtc-page-server.ts';

const silent = { info() {}, warn() {}, error() {} };

/** What a publisher's browser would send for VP8 (mediasoup validates it against the router). */
const vp8RtpParameters = {
  mid: '0',
  codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameters: 'pli' }] }],
  headerExtensions: [],
  encodings: [{ ssrc: 11111111 }],
  rtcp: { cname: 'test' },
};
const dtlsParameters = { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: Array(32).fill('AB').join(':') }] };

describe('WebRTC signaling over the socket', () => {
  let tmp: string;
  let signaling: WebRtcSignaling;
  let server: WebRtcPageServer;
  const sockets: Socket[] = [];
  const sources: WebRtcIngestSource[] = [];

  beforeAll(async () => {
    assertMediaTool('mediasoup');
    tmp = await mkdtemp(path.join(os.tmpdir(), 'flock-webrtc-sig-'));
    signaling = await startWebRtcIngest({
      workerBin: testWorkerBin()!,
      cacheHome: CACHE_HOME,
      listenIp: '127.0.0.1',
      sdpDir: tmp,
      authorize: async (userId, streamId) => {
        if (streamId === 'missing') throw new WebRtcError('FLOCK_ERR_NOT_FOUND', 'No such stream');
        if (!streamId.startsWith(`${userId}-`)) throw new WebRtcError('FLOCK_ERR_FORBIDDEN', 'Not your stream');
      },
      onSource: (s) => sources.push(s),
      log: silent,
    });
    expect(signaling.unavailableReason).toBeNull();
    server = await startWebRtcPageServer(signaling);
  }, 60_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    await server?.close();
    await signaling?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  async function connect(user: string): Promise<Socket> {
    const s = io(server.url, { auth: { user }, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(s);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('connect_error', reject);
    });
    return s;
  }
  const call = (s: Socket, event: string, req: unknown): Promise<Ack<Record<string, any>>> => s.timeout(10_000).emitWithAck(event, req);

  it('gives the router capabilities, H264 preferred over VP8, with Opus', async () => {
    const s = await connect('alice');
    const res = await call(s, 'webrtc:capabilities', {});
    expect(res.ok).toBe(true);
    const mimes = (res as any).routerRtpCapabilities.codecs.map((c: { mimeType: string }) => c.mimeType);
    expect(mimes).toContain('audio/opus');
    expect(mimes.indexOf('video/H264')).toBeGreaterThanOrEqual(0);
    expect(mimes.indexOf('video/H264')).toBeLessThan(mimes.indexOf('video/VP8'));
  });

  it('creates a transport, connects it, and turns the produced track into an IngestSource whose SDP ffmpeg can read', async () => {
    const s = await connect('alice');
    const t = await call(s, 'webrtc:transport', { streamId: 'alice-1', kinds: ['video'] });
    expect(t).toMatchObject({ ok: true, transportId: expect.any(String), iceParameters: expect.any(Object), dtlsParameters: expect.any(Object) });
    const transportId = (t as any).transportId as string;
    expect((t as any).iceCandidates[0]).toMatchObject({ ip: '127.0.0.1', protocol: 'udp' });
    expect(await call(s, 'webrtc:connect', { transportId, dtlsParameters })).toEqual({ ok: true });
    // Connecting twice is refused.
    expect(await call(s, 'webrtc:connect', { transportId, dtlsParameters })).toMatchObject({ ok: false, error: { code: 'FLOCK_ERR_VALIDATION' } });

    const before = sources.length;
    const p = await call(s, 'webrtc:produce', { transportId, kind: 'video', rtpParameters: vp8RtpParameters });
    expect(p).toMatchObject({ ok: true, producerId: expect.any(String) });
    const source = sources[before]!;
    expect(source).toMatchObject({ kind: 'webrtc', streamId: 'alice-1', codecs: { video: 'video/VP8' } });
    const args = source.inputArgs();
    expect(args.slice(0, 2)).toEqual(['-protocol_whitelist', 'file,udp,rtp']);
    expect(args.at(-2)).toBe('-i');
    const sdp = parse(readFileSync(args.at(-1)!, 'utf8'));
    expect(sdp.media).toHaveLength(1);
    expect(sdp.media[0]).toMatchObject({ type: 'video', protocol: 'RTP/AVP', rtp: [{ codec: 'VP8', rate: 90000 }] });
    expect(sdp.media[0]!.rtcp!.port).toBe(sdp.media[0]!.port + 1);

    // The same kind twice, or a kind the transport was not made for, is refused.
    expect(await call(s, 'webrtc:produce', { transportId, kind: 'video', rtpParameters: vp8RtpParameters })).toMatchObject({
      ok: false,
      error: { code: 'FLOCK_ERR_VALIDATION' },
    });
    expect(await call(s, 'webrtc:produce', { transportId, kind: 'audio', rtpParameters: vp8RtpParameters })).toMatchObject({
      ok: false,
      error: { code: 'FLOCK_ERR_VALIDATION' },
    });

    // While it is live, nobody (not even the owner on another socket) opens a second ingest for it.
    const again = await connect('alice');
    expect(await call(again, 'webrtc:transport', { streamId: 'alice-1' })).toMatchObject({ ok: false, error: { code: 'FLOCK_ERR_INGEST_BUSY' } });

    // The broadcaster's socket drops: the ingest ends, its SDP file is gone, and the stream is free again.
    s.disconnect();
    await source.ended;
    expect(existsSync(args.at(-1)!)).toBe(false);
    expect(await call(again, 'webrtc:transport', { streamId: 'alice-1' })).toMatchObject({ ok: true });
  });

  it('refuses other users, unknown transports and other sockets, and malformed payloads', async () => {
    const alice = await connect('alice');
    const mallory = await connect('mallory');
    expect(await call(mallory, 'webrtc:transport', { streamId: 'alice-2' })).toMatchObject({ ok: false, error: { code: 'FLOCK_ERR_FORBIDDEN' } });
    expect(await call(alice, 'webrtc:transport', { streamId: 'missing' })).toMatchObject({ ok: false, error: { code: 'FLOCK_ERR_NOT_FOUND' } });

    const t = (await call(alice, 'webrtc:transport', { streamId: 'alice-2' })) as any;
    expect(t.ok).toBe(true);
    // Someone else's transport id answers exactly like an unknown one.
    expect(await call(mallory, 'webrtc:connect', { transportId: t.transportId, dtlsParameters })).toMatchObject({
      ok: false,
      error: { code: 'FLOCK_ERR_NOT_FOUND' },
    });
    expect(await call(mallory, 'webrtc:produce', { transportId: t.transportId, kind: 'video', rtpParameters: vp8RtpParameters })).toMatchObject({
      ok: false,
      error: { code: 'FLOCK_ERR_NOT_FOUND' },
    });
    expect(await call(alice, 'webrtc:connect', { transportId: '00000000-0000-4000-8000-000000000000', dtlsParameters })).toMatchObject({
      ok: false,
      error: { code: 'FLOCK_ERR_NOT_FOUND' },
    });

    const bad: [string, unknown][] = [
      ['webrtc:capabilities', { extra: 1 }],
      ['webrtc:transport', { streamId: 5 }],
      ['webrtc:transport', { streamId: '../../etc' }],
      ['webrtc:transport', { streamId: 'alice-3', kinds: ['video', 'video'] }],
      ['webrtc:transport', { streamId: 'alice-3', kinds: ['screen'] }],
      ['webrtc:transport', 'alice-3'],
      ['webrtc:connect', { transportId: t.transportId, dtlsParameters: { fingerprints: [] } }],
      ['webrtc:connect', { transportId: 'not-a-uuid', dtlsParameters }],
      ['webrtc:produce', { transportId: t.transportId, kind: 'video', rtpParameters: { codecs: 'VP8' } }],
      ['webrtc:produce', { transportId: t.transportId, kind: 'video', rtpParameters: { codecs: Array(100).fill(vp8RtpParameters.codecs[0]) } }],
    ];
    for (const [event, payload] of bad) {
      expect(await call(alice, event, payload), `${event} ${JSON.stringify(payload)}`).toMatchObject({ ok: false, error: { code: 'FLOCK_ERR_VALIDATION' } });
    }
    // Well-formed but wrong for mediasoup: a codec the router does not have, a bogus fingerprint algorithm.
    const av1 = { ...vp8RtpParameters, codecs: [{ mimeType: 'video/AV1', payloadType: 45, clockRate: 90000 }] };
    expect(await call(alice, 'webrtc:produce', { transportId: t.transportId, kind: 'video', rtpParameters: av1 })).toMatchObject({
      ok: false,
      error: { code: 'FLOCK_ERR_VALIDATION' },
    });
    expect(
      await call(alice, 'webrtc:connect', { transportId: t.transportId, dtlsParameters: { fingerprints: [{ algorithm: 'md5', value: 'AB' }] } }),
    ).toMatchObject({ ok: false, error: { code: 'FLOCK_ERR_VALIDATION' } });
    // After all that, the transport still works.
    expect(await call(alice, 'webrtc:connect', { transportId: t.transportId, dtlsParameters })).toEqual({ ok: true });
  });
});
