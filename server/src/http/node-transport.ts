import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { clientIp, INTERNAL_ERROR, serializeBody, type HttpResponse, type SocketIoAttachable, type Transport, type TransportOptions, TOO_LARGE_BODY } from './types.ts';

/** HTTP on node:http (or node:https): the fallback when uWS cannot load, and a choice by config. */
export class NodeTransport implements Transport {
  readonly name = 'node' as const;
  readonly server: http.Server;
  private active = 0;

  constructor(
    private readonly opts: TransportOptions,
    readonly reason: string,
  ) {
    const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => this.onRequest(req, res);
    this.server = opts.tls
      ? https.createServer({ cert: readFileSync(opts.tls.certFile), key: readFileSync(opts.tls.keyFile) }, listener)
      : http.createServer(listener);
    this.server.keepAliveTimeout = 65_000;
    this.server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      else socket.destroy();
    });
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const ip = clientIp(req.socket.remoteAddress ?? '', headers['x-forwarded-for'], this.opts.trustProxy);
    const method = (req.method ?? 'GET').toUpperCase();
    const limit = this.opts.maxBodyBytes;

    let gone = false;
    res.on('close', () => {
      gone = !res.writableFinished;
    });
    const tooLarge = (): void => {
      res.writeHead(413, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
      res.end(TOO_LARGE_BODY, () => req.socket.destroy());
    };
    if (Number(headers['content-length'] ?? 0) > limit) {
      tooLarge();
      return;
    }
    const dispatch = (body: Buffer | null): void => {
      this.active++;
      this.opts
        .handler({ method, path: url.pathname, query: url.searchParams, headers, ip, body })
        .then(
          (out) => {
            if (!gone) this.write(res, out);
          },
          (err: unknown) => {
            this.opts.onError(err);
            if (!gone) this.write(res, INTERNAL_ERROR);
          },
        )
        .finally(() => {
          this.active--;
        });
    };
    const chunks: Buffer[] = [];
    let size = 0;
    let rejected = false;
    req.on('data', (chunk: Buffer) => {
      if (rejected) return;
      size += chunk.length;
      if (size > limit) {
        rejected = true;
        tooLarge();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!rejected) dispatch(size > 0 ? Buffer.concat(chunks, size) : null);
    });
    req.on('error', () => {
      gone = true; // client aborted mid-body; nothing to answer
    });
  }

  private write(res: http.ServerResponse, out: HttpResponse): void {
    const { bytes, contentType } = serializeBody(out);
    const headers: Record<string, string> = { ...out.headers };
    if (contentType && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['content-type'] = contentType;
    res.writeHead(out.status, headers);
    res.end(bytes);
  }

  attachSockets(io: SocketIoAttachable): null {
    // engine.io takes over the server's request listeners and passes on everything outside /socket.io/.
    io.attach(this.server);
    return null;
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  stopAccepting(): void {
    this.server.close();
    this.server.closeIdleConnections();
  }

  inFlight(): number {
    return this.active;
  }

  close(): void {
    this.server.close();
    this.server.closeAllConnections();
  }
}
