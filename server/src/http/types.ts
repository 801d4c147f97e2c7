import { FlockError } from '../errors.ts';

/**
 * The transport-neutral HTTP seam. A transport (uWS or node:http) turns a wire
 * request into an HttpRequest — body already read and size-limited — calls the
 * handler, and writes the HttpResponse unless the client has gone.
 */
export interface HttpRequest {
  method: string;
  /** Path without the query string, percent-decoding left to the router. */
  path: string;
  query: URLSearchParams;
  /** Lower-cased header names. */
  headers: Readonly<Record<string, string>>;
  /** Remote address (or the first X-Forwarded-For hop when TRUST_PROXY is set). */
  ip: string;
  body: Buffer | null;
}

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialized as JSON unless it is a string or Buffer (then sent as is) or JsonText (sent as is, as JSON). */
  body?: unknown;
}

export type HttpHandler = (req: HttpRequest) => Promise<HttpResponse>;

/** uWS pub/sub: one message to every subscriber of a topic. */
export interface NativePublisher {
  publish(topic: string, message: string | Uint8Array, isBinary?: boolean): boolean;
}

/** The part of a Socket.IO server a transport needs to attach it to its own port. */
export interface SocketIoAttachable {
  attachApp(app: unknown, opts?: object): void;
  attach(srv: import('node:http').Server, opts?: object): unknown;
}

export interface Transport {
  readonly name: 'uws' | 'node';
  /** Why this transport was chosen (shown in logs and /metrics). */
  readonly reason: string;
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting connections; in-flight requests may finish. */
  stopAccepting(): void;
  /** Number of requests being handled right now. */
  inFlight(): number;
  /** Closes every connection. */
  close(): void;
  /** Serves Socket.IO (`/socket.io/`) on the same port. */
  /**
   * Attaches Socket.IO. Returns the native pub/sub publisher Socket.IO's broadcasts use (uWS), or
   * null when broadcasts go through each socket (node:http).
   */
  attachSockets(io: SocketIoAttachable, opts: { maxBackpressure: number }): NativePublisher | null;
}

export interface TransportOptions {
  handler: HttpHandler;
  maxBodyBytes: number;
  trustProxy: boolean;
  tls?: { certFile: string; keyFile: string };
  onError: (err: unknown) => void;
}

export const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
  404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 413: 'Payload Too Large',
  415: 'Unsupported Media Type', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

/** A response body that is JSON text already (e.g. built from cached JSON): sent as is, as application/json. */
export class JsonText {
  constructor(readonly text: string) {}
}

export function serializeBody(res: HttpResponse): { bytes: Buffer | string; contentType: string | null } {
  if (res.body === undefined || res.status === 204) return { bytes: '', contentType: null };
  if (res.body instanceof JsonText) return { bytes: res.body.text, contentType: 'application/json; charset=utf-8' };
  if (Buffer.isBuffer(res.body)) return { bytes: res.body, contentType: 'application/octet-stream' };
  if (typeof res.body === 'string') return { bytes: res.body, contentType: 'text/plain; charset=utf-8' };
  return { bytes: JSON.stringify(res.body), contentType: 'application/json; charset=utf-8' };
}

export function clientIp(remote: string, forwardedFor: string | undefined, trustProxy: boolean): string {
  if (trustProxy && forwardedFor) {
    // The trusted proxy appends the address it saw; anything to the left was written by the client.
    const last = forwardedFor.split(',').pop()?.trim();
    if (last) return last;
  }
  return remote;
}

/** Answers the transports give themselves, before or outside the dispatcher, from the one error catalog. */
export const TOO_LARGE_BODY = JSON.stringify(new FlockError('FLOCK_ERR_PAYLOAD_TOO_LARGE').toBody());
export const INTERNAL_ERROR: HttpResponse = { status: 500, body: new FlockError('FLOCK_ERR_INTERNAL').toBody() };
