import { readFileSync } from 'node:fs';
import type { HttpRequest as UwsRequest, HttpResponse as UwsResponse, TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { Uws } from './load-uws.ts';
import {
  clientIp,
  INTERNAL_ERROR,
  serializeBody,
  STATUS_TEXT,
  type HttpRequest,
  type HttpResponse,
  type NativePublisher,
  type SocketIoAttachable,
  type Transport,
  type TransportOptions,
  TOO_LARGE_BODY,
} from './types.ts';

/**
 * One request, its remote address read on first use, with the getter on a class prototype. An
 * object literal with its own `get ip()` per request is a dictionary-mode object whose accessor
 * pair V8 allocates in the old generation; that pair kept the getter's closure, and through it the
 * request's headers, query and response, alive past every scavenge until the next full
 * collection: about 1 KB per request promoted, scavenges of 2-5 ms and more frequent full
 * collections, in the tail of every route (docs/benchmarks.md, "Timeline p99").
 */
class LazyIpRequest implements HttpRequest {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly query: URLSearchParams,
    readonly headers: Readonly<Record<string, string>>,
    readonly body: Buffer | null,
    private readonly readIp: () => string,
  ) {}

  get ip(): string {
    return this.readIp();
  }
}

/** HTTP on uWebSockets.js. The app is exposed so Socket.IO can attach to the same port. */
export class UwsTransport implements Transport {
  readonly name = 'uws' as const;
  readonly app: TemplatedApp;
  private listenSocket: us_listen_socket | null = null;
  private active = 0;

  constructor(
    private readonly uws: Uws,
    private readonly opts: TransportOptions,
    readonly reason: string,
  ) {
    this.app = opts.tls
      ? uws.SSLApp({ cert_file_name: opts.tls.certFile, key_file_name: opts.tls.keyFile })
      : uws.App();
    if (opts.tls) {
      // Fail at start, not on the first handshake, when the files are unreadable.
      readFileSync(opts.tls.certFile);
      readFileSync(opts.tls.keyFile);
    }
    this.app.any('/*', (res, req) => this.onRequest(res, req));
  }

  private onRequest(res: UwsResponse, req: UwsRequest): void {
    // Everything from req must be read now: it is invalid after this function returns.
    const headers: Record<string, string> = {};
    req.forEach((k, v) => {
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    });
    const method = req.getCaseSensitiveMethod().toUpperCase();
    const path = req.getUrl();
    const query = new URLSearchParams(req.getQuery() ?? '');
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    // The remote address is read when a route asks for it (reading it cost about a tenth of a
    // cached timeline page); res stays valid until it is ended or aborted.
    let ip: string | undefined;
    const trustProxy = this.opts.trustProxy;
    const readIp = (): string => (ip ??= clientIp(aborted ? '' : Buffer.from(res.getRemoteAddressAsText()).toString(), headers['x-forwarded-for'], trustProxy));

    const declared = headers['content-length'];
    const limit = this.opts.maxBodyBytes;
    if (declared !== undefined && Number(declared) > limit) {
      this.tooLarge(res);
      return;
    }
    const hasBody = declared !== undefined ? Number(declared) > 0 : headers['transfer-encoding'] !== undefined;
    const dispatch = (body: Buffer | null): void => {
      this.active++;
      const request = new LazyIpRequest(method, path, query, headers, body, readIp);
      this.opts
        .handler(request)
        .then(
          (out) => {
            if (!aborted) this.write(res, out);
          },
          (err: unknown) => {
            this.opts.onError(err);
            if (!aborted) this.write(res, INTERNAL_ERROR);
          },
        )
        .finally(() => {
          this.active--;
        });
    };
    if (!hasBody || method === 'GET' || method === 'HEAD') {
      dispatch(null);
      return;
    }
    // The routes that rate-limit by address take bodies: read it before the body arrives.
    readIp();
    const chunks: Buffer[] = [];
    let size = 0;
    let rejected = false;
    res.onData((ab, isLast) => {
      if (rejected || aborted) return;
      size += ab.byteLength;
      if (size > limit) {
        rejected = true;
        this.tooLarge(res);
        return;
      }
      // The ArrayBuffer is reused by uWS after this callback: copy it.
      chunks.push(Buffer.from(new Uint8Array(ab).slice()));
      if (isLast) dispatch(Buffer.concat(chunks, size));
    });
  }

  private tooLarge(res: UwsResponse): void {
    res.cork(() => {
      res
        .writeStatus('413 Payload Too Large')
        .writeHeader('content-type', 'application/json; charset=utf-8')
        .writeHeader('connection', 'close')
        .end(TOO_LARGE_BODY, true);
    });
  }

  private write(res: UwsResponse, out: HttpResponse): void {
    const { bytes, contentType } = serializeBody(out);
    res.cork(() => {
      res.writeStatus(`${out.status} ${STATUS_TEXT[out.status] ?? ''}`.trim());
      let hasType = false;
      for (const [k, v] of Object.entries(out.headers ?? {})) {
        if (k.toLowerCase() === 'content-type') hasType = true;
        res.writeHeader(k, v);
      }
      if (contentType && !hasType) res.writeHeader('content-type', contentType);
      res.end(bytes);
    });
  }

  attachSockets(io: SocketIoAttachable, opts: { maxBackpressure: number }): NativePublisher {
    io.attachApp(this.app, opts);
    return this.app;
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (!socket) {
          reject(new Error(`cannot listen on ${host}:${port}`));
          return;
        }
        this.listenSocket = socket;
        resolve(this.uws.us_socket_local_port(socket));
      });
    });
  }

  stopAccepting(): void {
    if (this.listenSocket) {
      this.uws.us_listen_socket_close(this.listenSocket);
      this.listenSocket = null;
    }
  }

  inFlight(): number {
    return this.active;
  }

  close(): void {
    this.stopAccepting();
    // Present at run time since uWS v20.27, missing from this package's typings: closes every connection.
    (this.app as TemplatedApp & { close(): void }).close();
  }
}
