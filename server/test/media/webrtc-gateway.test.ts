import type { Ack } from '@flock/client/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';
import { assertMediaTool, testWorkerBin } from '../support/media-tools.ts';
import { connectSocket, type TestSocket } from '../support/socket-client.ts';
import { makeApi } from '../support/test-gateway.ts';

/**
 * A gateway started the normal way (node server/src/main.ts, configured by environment) offers
 * WebRTC ingest over its socket when it has a mediasoup worker, and says once at start that it
 * offers RTMP only when it has none.
 */

const UNAVAILABLE_LINE = /^WebRTC ingest unavailable: .*; RTMP only$/;

function logLines(gw: GatewayProcess): Record<string, unknown>[] {
  return gw.logs.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

let n = 0;
async function registered(gw: GatewayProcess, prefix: string): Promise<{ id: string; token: string }> {
  const api = makeApi(gw.url);
  const tag = `${prefix}${process.pid % 10000}${n++}`;
  const reg = await api('POST', '/v1/auth/register', { body: { handle: tag, email: `${tag}@example.test`, password: 'correct horse battery' } });
  expect(reg.status).toBe(201);
  return { id: reg.body.user.id, token: reg.body.accessToken };
}

const call = (s: TestSocket, event: string, req: unknown): Promise<Ack<Record<string, any>>> =>
  (s.timeout(10_000) as unknown as { emitWithAck(e: string, r: unknown): Promise<Ack<Record<string, any>>> }).emitWithAck(event, req);

describe('gateway process with a mediasoup worker', () => {
  let gw: GatewayProcess;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    assertMediaTool('mediasoup');
    gw = await startGatewayProcess({ DATA_DIR: 'memory://', MEDIASOUP_WORKER_BIN: testWorkerBin()!, WEBRTC_LISTEN_IP: '127.0.0.1' });
  }, 120_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    if (gw?.child.exitCode === null) {
      gw.child.kill('SIGTERM');
      await gw.exited();
    }
  });

  it('logs that WebRTC ingest is ready, and no unavailable warning', () => {
    const lines = logLines(gw);
    expect(lines.filter((j) => j.msg === 'WebRTC ingest ready')).toHaveLength(1);
    expect(lines.filter((j) => typeof j.msg === 'string' && UNAVAILABLE_LINE.test(j.msg))).toHaveLength(0);
  });

  it('answers webrtc:capabilities with the router codecs, and lets only the owner open a transport', async () => {
    const owner = await registered(gw, 'wro');
    const other = await registered(gw, 'wrx');
    const api = makeApi(gw.url);
    const created = await api('POST', '/v1/streams', { token: owner.token, body: { title: 'camera' } });
    expect(created.status).toBe(201);
    // The stream says where its WebRTC signaling is: this gateway's socket.
    expect(created.body.ingest.webrtc).toBe(gw.url);
    const s = await connectSocket(gw.url, owner.token);
    const x = await connectSocket(gw.url, other.token);
    sockets.push(s, x);

    const caps = await call(s, 'webrtc:capabilities', {});
    expect(caps.ok).toBe(true);
    const mimes = (caps as any).routerRtpCapabilities.codecs.map((c: { mimeType: string }) => c.mimeType);
    expect(mimes).toEqual(expect.arrayContaining(['audio/opus', 'video/H264', 'video/VP8']));

    expect(await call(x, 'webrtc:transport', { streamId: created.body.id })).toMatchObject({ ok: false, error: { code: 'FLOCK_ERR_FORBIDDEN' } });
    expect(await call(s, 'webrtc:transport', { streamId: '999999999' })).toMatchObject({ ok: false, error: { code: 'FLOCK_ERR_NOT_FOUND' } });
    expect(await call(s, 'webrtc:transport', { streamId: 'not-an-id' })).toMatchObject({ ok: false, error: { code: 'FLOCK_ERR_NOT_FOUND' } });
    const t = await call(s, 'webrtc:transport', { streamId: created.body.id });
    expect(t).toMatchObject({ ok: true, transportId: expect.any(String) });
    // The candidates point at the configured address.
    expect((t as any).iceCandidates.map((c: { address: string }) => c.address)).toContain('127.0.0.1');
    // One WebRTC ingest per stream.
    expect(await call(s, 'webrtc:transport', { streamId: created.body.id })).toMatchObject({ ok: false, error: { code: 'FLOCK_ERR_INGEST_BUSY' } });
  });
});

describe('gateway process without a mediasoup worker', () => {
  let gw: GatewayProcess;
  let socket: TestSocket | undefined;

  beforeAll(async () => {
    gw = await startGatewayProcess({ DATA_DIR: 'memory://', MEDIASOUP_WORKER_BIN: '/nonexistent/mediasoup-worker' });
  }, 120_000);

  afterAll(async () => {
    socket?.close();
    if (gw?.child.exitCode === null) {
      gw.child.kill('SIGTERM');
      await gw.exited();
    }
  });

  it('says so once at start, offers RTMP only, and answers webrtc:* with FLOCK_ERR_UNAVAILABLE', async () => {
    const warnings = logLines(gw).filter((j) => typeof j.msg === 'string' && UNAVAILABLE_LINE.test(j.msg));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain('/nonexistent/mediasoup-worker');

    const owner = await registered(gw, 'wru');
    const created = await makeApi(gw.url)('POST', '/v1/streams', { token: owner.token, body: { title: 'rtmp only' } });
    expect(created.status).toBe(201);
    expect(created.body.ingest.rtmp).toMatch(/^rtmp:\/\//);
    expect(created.body.ingest.webrtc).toBeUndefined();

    socket = await connectSocket(gw.url, owner.token);
    const transportId = '00000000-0000-4000-8000-000000000000';
    for (const [event, req] of [
      ['webrtc:capabilities', {}],
      ['webrtc:transport', { streamId: created.body.id }],
      ['webrtc:connect', { transportId, dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] } }],
      ['webrtc:produce', { transportId, kind: 'video', rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }] } }],
    ] as const) {
      const res = await call(socket, event, req);
      expect(res, event).toMatchObject({ ok: false, error: { code: 'FLOCK_ERR_UNAVAILABLE', message: warnings[0]!.msg } });
    }
    // Still said only once.
    expect(logLines(gw).filter((j) => typeof j.msg === 'string' && UNAVAILABLE_LINE.test(j.msg))).toHaveLength(1);
  });
});
