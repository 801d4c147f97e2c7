import { parse, types } from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { broadcast, eventually, processGone, type Broadcaster } from '../support/broadcaster.ts';
import { assertService, ffmpegAvailable } from '../support/services.ts';
import { collect, connectSocket, type TestSocket } from '../support/socket-client.ts';
import { startTestGateway, type TestGateway, type TestUser } from '../support/test-gateway.ts';

/**
 * One gateway, one stream published by a real ffmpeg over RTMP, shared by the assertions in
 * order: go-live and its pushes, the HLS output and origin, blocking reload, an ffmpeg crash and
 * restart, chat, the broadcaster leaving (ENDLIST), then the API's edges.
 */
describe('live stream: RTMP → ffmpeg → LL-HLS → origin', () => {
  let t: TestGateway;
  let owner: TestUser;
  let fan: TestUser;
  let other: TestUser;
  let fanSocket: TestSocket;
  let ownerSocket: TestSocket;
  let stream: { id: string; streamKey: string; ingest: { rtmp: string }; playback: { hls: string } };
  let caster: Broadcaster;
  const hls = (p: string) => t.api('GET', `/hls/${stream.id}/${p}`);
  const media = () => t.gw.live.media!;

  beforeAll(async () => {
    assertService('ffmpeg', ffmpegAvailable());
    t = await startTestGateway('pglite', 'uws', { RATE_CHAT_PER_USER: '3/10s', HLS_BLOCK_TIMEOUT_MS: 8000 });
    [owner, fan, other] = await Promise.all([t.register('own'), t.register('fan'), t.register('oth')]);
    expect((await t.api('PUT', `/v1/users/${owner.handle}/follow`, { token: fan.accessToken })).status).toBe(200);
    [fanSocket, ownerSocket] = await Promise.all([connectSocket(t.url, fan.accessToken), connectSocket(t.url, owner.accessToken)]);
    const r = await t.api('POST', '/v1/streams', { token: owner.accessToken, body: { title: '  Morning show  ' } });
    expect(r.status).toBe(201);
    stream = r.body;
  });

  afterAll(async () => {
    fanSocket?.close();
    ownerSocket?.close();
    await caster?.stop();
    await t?.close();
  });

  it('creates a stream with a one-time key, ingest and playback URLs', async () => {
    expect(stream).toMatchObject({ title: 'Morning show', status: 'idle', owner: { id: owner.id }, viewers: 0 });
    expect(stream.streamKey).toMatch(new RegExp(`^${stream.id}_[A-Za-z0-9_-]{32}$`));
    expect(stream.ingest.rtmp).toBe(`rtmp://127.0.0.1:${media().rtmp.port}/live`);
    expect(stream.playback.hls).toBe(`${t.url}/hls/${stream.id}/master.m3u8`);
    const got = await t.api('GET', `/v1/streams/${stream.id}`);
    expect(got.status).toBe(200);
    expect(got.body.streamKey).toBeUndefined();
    // The secret is everything after `<id>_`: it may hold '_' itself (base64url), so not split('_')[1],
    // which could be one letter found anywhere in the JSON.
    expect(got.text).not.toContain(stream.streamKey.slice(stream.id.length + 1));
  });

  it('refuses a wrong key before anything is transcoded', async () => {
    const wrong = `${stream.id}_${'A'.repeat(32)}`;
    const tries = [wrong, 'not-a-key', `${stream.streamKey}x`].map((key) => broadcast(`${stream.ingest.rtmp}/${key}`, { seconds: 20 }));
    for (const b of tries) expect(await b.exited).not.toBe(0);
    expect(media().session(stream.id)).toBeUndefined();
    expect((await t.api('GET', `/v1/streams/${stream.id}`)).body.status).toBe('idle');
    expect((await hls('master.m3u8')).status).toBe(404);
  });

  it('goes live: followers get stream:live and a durable live notification within 1 s', async () => {
    const live = collect(fanSocket, 'stream:live');
    const notes = collect(fanSocket, 'notification');
    caster = broadcast(`${stream.ingest.rtmp}/${stream.streamKey}`);
    const e = await live.next((x) => x.stream.id === stream.id, 15_000);
    const receivedAt = Date.now();
    expect(e.id).toBe(`live:${stream.id}`);
    expect(e.stream).toMatchObject({ status: 'live', owner: { id: owner.id } });
    expect(receivedAt - Date.parse(e.stream.startedAt!)).toBeLessThan(1000);
    const n = await notes.next((x) => x.notification.kind === 'live', 1000);
    expect(n.notification).toMatchObject({ kind: 'live', streamId: stream.id, actor: { id: owner.id } });
    const inbox = await t.api('GET', '/v1/notifications', { token: fan.accessToken });
    expect(inbox.body.items.some((x: any) => x.kind === 'live' && x.streamId === stream.id)).toBe(true);
    const list = await t.api('GET', '/v1/streams?live=true');
    expect(list.body.items.map((x: any) => x.id)).toContain(stream.id);
  });

  it('writes a multivariant playlist and an LL-HLS media playlist that parse', async () => {
    // Blocking reload: answered once segment 1 is complete, without polling.
    await eventually(() => media().session(stream.id), 5000, 'the live session');
    await eventually(async () => (await hls('source/index.m3u8')).status === 200, 10_000, 'the media playlist');
    const blocked = await hls('source/index.m3u8?_HLS_msn=1');
    expect(blocked.status).toBe(200);
    const master = await hls('master.m3u8');
    expect(master.status).toBe(200);
    expect(master.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(master.headers.get('cache-control')).toBe('public, max-age=1');
    expect(master.headers.get('access-control-allow-origin')).toBe('*');
    const mv = parse(master.text) as types.MasterPlaylist;
    expect(mv.isMasterPlaylist).toBe(true);
    expect(mv.variants).toHaveLength(1);
    expect(mv.variants[0]!.uri).toBe('source/index.m3u8');
    expect(mv.variants[0]!.codecs).toMatch(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
    expect(mv.variants[0]!.resolution).toEqual({ width: 320, height: 240 });
    expect(mv.variants[0]!.bandwidth).toBeGreaterThan(10_000);

    const pl = parse(blocked.text) as types.MediaPlaylist;
    expect(pl.isMasterPlaylist).toBe(false);
    expect(pl.endlist).toBe(false);
    expect(pl.targetDuration).toBe(1); // HLS_SEGMENT_MS=1000 (the default); the test encoder sends a keyframe a second
    expect(pl.partTargetDuration).toBeCloseTo(0.333, 3);
    expect(pl.lowLatencyCompatibility).toMatchObject({ canBlockReload: true });
    expect(pl.lowLatencyCompatibility!.partHoldBack).toBeGreaterThanOrEqual(3 * pl.partTargetDuration! - 1e-9);
    expect(pl.segments.length).toBeGreaterThanOrEqual(2);
    const [s0, s1] = pl.segments;
    for (const s of [s0!, s1!]) {
      expect(s.duration).toBeGreaterThan(0.75);
      expect(s.duration).toBeLessThanOrEqual(1.5);
      expect(s.map!.uri).toBe('init0.mp4');
      expect(s.parts.length).toBeGreaterThanOrEqual(3);
      // Every part is 85–100 % of the part target except a segment's last.
      for (const p of s.parts) expect(p.duration!).toBeLessThanOrEqual(pl.partTargetDuration!);
      for (const p of s.parts.slice(0, -1)) expect(p.duration!).toBeGreaterThanOrEqual(0.85 * pl.partTargetDuration!);
      expect(s.parts[0]!.independent).toBe(true);
      expect(s.parts.reduce((a, p) => a + p.duration!, 0)).toBeCloseTo(s.duration, 2);
    }
    // The segment being built comes last: its parts so far, then the preload hint of the next part.
    const building = pl.segments[pl.segments.length - 1]!;
    expect(building.uri).toBeFalsy();
    expect(building.parts.at(-1)).toMatchObject({ hint: true });
    expect(building.parts.filter((p) => p.hint)).toHaveLength(1);

    const init = await hls('source/init0.mp4');
    expect(init.status).toBe(200);
    expect(init.headers.get('content-type')).toBe('video/mp4');
    expect(init.headers.get('cache-control')).toBe('public, max-age=1209600, immutable');
    const seg = await fetch(`${t.url}/hls/${stream.id}/source/${s0!.uri}`);
    expect(seg.headers.get('cache-control')).toBe('public, max-age=1209600, immutable');
    const bytes = Buffer.from(await seg.arrayBuffer());
    expect(bytes.toString('latin1', 4, 8)).toBe('moof');
    const part = await fetch(`${t.url}/hls/${stream.id}/source/${s1!.parts[0]!.uri}`);
    expect(part.status).toBe(200);
    expect(part.headers.get('content-type')).toBe('video/mp4');
  });

  it('holds a blocking reload until the part exists, and a preload-hinted part until it is written', async () => {
    const now = parse((await hls('source/index.m3u8')).text) as types.MediaPlaylist;
    const last = now.segments[now.segments.length - 1]!;
    const nextMsn = last.mediaSequenceNumber + 2;
    const started = Date.now();
    const r = await hls(`source/index.m3u8?_HLS_msn=${nextMsn}&_HLS_part=0`);
    expect(r.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThan(100);
    expect(r.text).toContain(`URI="seg${nextMsn}.0.m4s"`);
    const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/.exec(r.text)![1]!;
    const hinted = await hls(`source/${hint}`);
    expect(hinted.status).toBe(200);
    expect(hinted.headers.get('content-type')).toBe('video/mp4');
  });

  it('answers 400 for invalid blocking parameters and 404 for unknown streams, files and traversal', async () => {
    for (const q of ['_HLS_msn=abc', '_HLS_part=1', '_HLS_msn=-1', '_HLS_msn=1&_HLS_part=x', '_HLS_msn=99999']) {
      const r = await hls(`source/index.m3u8?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code).toBe('FLOCK_ERR_VALIDATION');
    }
    for (const p of [
      `/hls/1234567/master.m3u8`,
      `/hls/1234567/source/index.m3u8`,
      `/hls/${stream.id}/nope/index.m3u8`,
      `/hls/${stream.id}/source/seg999999.m4s`,
      `/hls/${stream.id}/source/..%2F..%2F..%2Fetc%2Fpasswd`,
      `/hls/${stream.id}/%2E%2E/index.m3u8`,
      `/hls/${stream.id}/source/index.m3u8%00.mp4`,
      `/hls/${stream.id}/index.m3u8`,
    ]) {
      const r = await t.api('GET', p);
      expect(r.status, p).toBe(404);
    }
  });

  it('restarts a killed ffmpeg; the playlist continues after a discontinuity', async () => {
    const session = media().session(stream.id)!;
    const pid = session.ffmpegPid!;
    process.kill(pid, 'SIGKILL');
    await eventually(() => processGone(pid), 5000, 'ffmpeg to die');
    await eventually(() => session.restarts >= 1 && session.ffmpegPid !== undefined && session.ffmpegPid !== pid, 10_000, 'the restart');
    const after = await eventually(async () => {
      const text = (await hls('source/index.m3u8')).text;
      const pl = parse(text) as types.MediaPlaylist;
      const i = pl.segments.findIndex((s) => s.discontinuity);
      return i > 0 && pl.segments.length > i + 1 ? { pl, i } : undefined;
    }, 20_000, 'segments after the discontinuity');
    const { pl, i } = after;
    expect(pl.segments[i]!.map!.uri).toBe('init1.mp4');
    expect(pl.segments[i - 1]!.map!.uri).toBe('init0.mp4');
    expect(pl.segments[i + 1]!.mediaSequenceNumber).toBe(pl.segments[i]!.mediaSequenceNumber + 1);
    expect((await hls('source/init1.mp4')).status).toBe(200);
    const metrics = await t.api('GET', '/metrics');
    expect(metrics.text).toMatch(/^flock_ffmpeg_restarts_total 1$/m);
  });

  it('chats in the stream room (rate-limited, 280 graphemes) and pushes the viewer count', async () => {
    const viewers = collect(fanSocket, 'stream:viewers');
    const join = await fanSocket.emitWithAck('stream:join', { streamId: stream.id });
    expect(join).toEqual({ ok: true, viewers: 1 });
    expect((await viewers.next((v) => v.streamId === stream.id && v.viewers === 1)).id).toMatch(/^viewers:/);
    expect((await t.api('GET', `/v1/streams/${stream.id}`)).body.viewers).toBe(1);

    const chat = collect(fanSocket, 'chat:message');
    const sent = await ownerSocket.emitWithAck('chat:send', { streamId: stream.id, text: ' hello 👋🏽 ' });
    expect(sent.ok).toBe(true);
    const got = await chat.next((m) => m.streamId === stream.id);
    expect(got).toMatchObject({ text: 'hello 👋🏽', user: { id: owner.id, handle: owner.handle } });
    if (sent.ok) expect(got.id).toBe(sent.message.id);

    const long = await ownerSocket.emitWithAck('chat:send', { streamId: stream.id, text: '👍🏽'.repeat(281) });
    expect(long).toMatchObject({ ok: false, error: { code: 'FLOCK_ERR_VALIDATION' } });
    const exact = await ownerSocket.emitWithAck('chat:send', { streamId: stream.id, text: '👍🏽'.repeat(280) });
    expect(exact.ok).toBe(true);
    const bad = await ownerSocket.emitWithAck('chat:send', { streamId: 'x', text: 'hi' } as never);
    expect(bad).toMatchObject({ ok: false, error: { code: 'FLOCK_ERR_VALIDATION' } });
    const unknown = await ownerSocket.emitWithAck('chat:send', { streamId: '123', text: 'hi' });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'FLOCK_ERR_NOT_FOUND' } });
    const limited = await ownerSocket.emitWithAck('chat:send', { streamId: stream.id, text: 'one more' });
    expect(limited).toMatchObject({ ok: false, error: { code: 'FLOCK_ERR_RATE_LIMITED' } });
  });

  it('the broadcaster stopping ends the stream: stream:ended, ENDLIST, the key spent', async () => {
    const ended = collect(fanSocket, 'stream:ended');
    await caster.stop();
    const e = await ended.next((x) => x.streamId === stream.id, 15_000);
    expect(e.id).toBe(`ended:${stream.id}`);
    const r = await hls('source/index.m3u8');
    const pl = parse(r.text) as types.MediaPlaylist;
    expect(pl.endlist).toBe(true);
    expect(pl.playlistType).toBe('VOD');
    expect(pl.segments[0]!.mediaSequenceNumber).toBe(0); // the whole broadcast, from the start
    expect(r.text).not.toContain('PRELOAD-HINT');
    expect(r.headers.get('cache-control')).toBe('public, max-age=3600');
    const blocked = await hls('source/index.m3u8?_HLS_msn=99');
    expect(blocked.status).toBe(200); // an ended playlist answers at once
    const s = await t.api('GET', `/v1/streams/${stream.id}`);
    expect(s.body).toMatchObject({ status: 'ended', viewers: 0 });
    expect(s.body.endedAt).not.toBeNull();
    expect(media().session(stream.id)).toBeUndefined();
    const again = broadcast(`${stream.ingest.rtmp}/${stream.streamKey}`, { seconds: 20 });
    expect(await again.exited).not.toBe(0);
    const closed = await ownerSocket.emitWithAck('chat:send', { streamId: stream.id, text: 'bye' });
    expect(closed.ok).toBe(false);
  });

  it('validates stream creation and lets only the owner delete', async () => {
    const post = (body: unknown, token?: string) => t.api('POST', '/v1/streams', { token, body });
    expect((await post({ title: 'x' })).status).toBe(401);
    for (const body of [{}, { title: '' }, { title: '   ' }, { title: 7 }, { title: 'x'.repeat(101) }, { title: 'ok', extra: 1 }]) {
      const r = await post(body, owner.accessToken);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('FLOCK_ERR_VALIDATION');
    }
    const raw = await t.api('POST', '/v1/streams', { token: owner.accessToken, raw: '{"title":', headers: { 'content-type': 'application/json' } });
    expect(raw.status).toBe(400);
    expect((await t.api('GET', '/v1/streams/abc')).status).toBe(400);
    expect((await t.api('GET', '/v1/streams/123')).status).toBe(404);
    expect((await t.api('GET', '/v1/streams?live=maybe')).status).toBe(400);

    const all = await t.api('GET', '/v1/streams?limit=1');
    expect(all.body.items).toHaveLength(1);
    expect((await t.api('GET', '/v1/streams?live=true')).body.items.map((x: any) => x.id)).not.toContain(stream.id);

    expect((await t.api('DELETE', `/v1/streams/${stream.id}`, { token: other.accessToken })).status).toBe(403);
    expect((await t.api('DELETE', `/v1/streams/${stream.id}`)).status).toBe(401);
    expect((await t.api('DELETE', '/v1/streams/123', { token: owner.accessToken })).status).toBe(404);
    expect((await t.api('DELETE', `/v1/streams/${stream.id}`, { token: owner.accessToken })).status).toBe(204);
    expect((await t.api('GET', `/v1/streams/${stream.id}`)).status).toBe(404);
    expect((await hls('master.m3u8')).status).toBe(404);
    expect((await hls('source/index.m3u8')).status).toBe(404);
  });

  it('deleting a live stream cuts the broadcaster off and stops ffmpeg', async () => {
    const r = await t.api('POST', '/v1/streams', { token: owner.accessToken, body: { title: 'short' } });
    const ended = collect(fanSocket, 'stream:ended');
    const b = broadcast(`${r.body.ingest.rtmp}/${r.body.streamKey}`);
    try {
      const session = await eventually(() => (media().session(r.body.id)?.ffmpegPid ? media().session(r.body.id) : undefined), 15_000, 'the second stream live');
      const pid = session.ffmpegPid!;
      expect((await t.api('DELETE', `/v1/streams/${r.body.id}`, { token: owner.accessToken })).status).toBe(204);
      expect(media().session(r.body.id)).toBeUndefined();
      expect(processGone(pid)).toBe(true);
      expect(await b.exited).not.toBe(0);
      expect((await t.api('GET', `/hls/${r.body.id}/master.m3u8`)).status).toBe(404);
      expect((await ended.next((e) => e.streamId === r.body.id)).id).toBe(`ended:${r.body.id}`);
    } finally {
      await b.stop();
    }
  });
});
