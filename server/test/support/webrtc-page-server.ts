import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { WebRtcSignaling } from '@flock/media/webrtc';
import { build } from 'esbuild';
import { Server } from 'socket.io';
import { createLogger } from '../../src/logger.ts';
import type { FlockIo } from '../../src/realtime/socket-feature.ts';
import { WebRtcFeature } from '../../src/realtime/webrtc-feature.ts';

const PAGE = '<!doctype html><meta charset="utf-8"><title>Flock WebRTC publisher</title><script src="/publisher.js"></script>';

/** The publisher page's script (webrtc-publisher.page.ts with mediasoup-client and socket.io-client), bundled once. */
let bundle: Promise<string> | null = null;
function publisherBundle(): Promise<string> {
  bundle ??= build({
    entryPoints: [fileURLToPath(new URL('./webrtc-publisher.page.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome110',
    logLevel: 'silent',
  }).then((r) => r.outputFiles[0]!.text);
  return bundle;
}

/** Serves only the publisher page, which then signals to a real gateway (`flockPublish({url, token, …})`). */
export async function startPublisherPageServer(): Promise<WebRtcPageServer> {
  const script = await publisherBundle();
  const server = http.createServer((req, res) => {
    if (req.url === '/publisher.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface WebRtcPageServer {
  url: string;
  close(): Promise<void>;
}

/**
 * An HTTP server that serves the publisher page and a Socket.IO server with the WebRTC socket
 * feature, the way the gateway binds it, but with the user named in the handshake
 * (`auth: {user}`) instead of a token: these tests are about signaling and media, not login.
 */
export async function startWebRtcPageServer(signaling: WebRtcSignaling): Promise<WebRtcPageServer> {
  const script = await publisherBundle();
  const server = http.createServer((req, res) => {
    if (req.url === '/publisher.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    } else if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    } else {
      res.writeHead(404).end();
    }
  });
  const io: FlockIo = new Server(server, { transports: ['websocket'] });
  const feature = new WebRtcFeature({ signaling, log: createLogger('silent') });
  io.use((socket, next) => {
    const user = (socket.handshake.auth as { user?: unknown }).user;
    if (typeof user !== 'string' || !user) return next(new Error('auth.user required'));
    socket.data = { userId: user, sessionId: null, authorRooms: [] };
    next();
  });
  io.on('connection', (socket) => feature.attach(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}
