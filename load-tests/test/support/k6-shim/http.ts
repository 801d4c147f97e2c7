import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import exec from './execution.ts';
import { record, registry } from './registry.ts';

/**
 * k6's synchronous HTTP: each request runs fetch() in a worker thread while this thread waits on
 * an Atomics flag, then takes the answer off the message port synchronously.
 */

const WORKER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', async ({ req, port, flag }) => {
  const started = performance.now();
  let out;
  try {
    const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body ?? undefined });
    const body = await res.text();
    out = { status: res.status, body, headers: Object.fromEntries(res.headers), duration: performance.now() - started, error: '' };
  } catch (err) {
    out = { status: 0, body: '', headers: {}, duration: performance.now() - started, error: String(err && err.cause ? err.cause.message : err) };
  }
  port.postMessage(out);
  const i = new Int32Array(flag);
  Atomics.store(i, 0, 1);
  Atomics.notify(i, 0);
});
`;
const worker = new Worker(WORKER, { eval: true });
worker.unref();

interface Params {
  headers?: Record<string, string>;
  tags?: Record<string, string>;
}

export interface Response {
  status: number;
  body: string;
  error: string;
  headers: Record<string, string>;
  timings: { duration: number };
  json(): unknown;
}

export function request(method: string, url: string, body?: string | null, params: Params = {}): Response {
  const flag = new SharedArrayBuffer(4);
  const { port1, port2 } = new MessageChannel();
  worker.postMessage({ req: { method, url, headers: params.headers ?? {}, body: body ?? null }, port: port2, flag }, [port2]);
  Atomics.wait(new Int32Array(flag), 0, 0, 60_000);
  const msg = receiveMessageOnPort(port1);
  port1.close();
  if (!msg) throw new Error(`${method} ${url}: no answer within 60 s`);
  const r = msg.message as { status: number; body: string; headers: Record<string, string>; duration: number; error: string };
  registry.requests.push({ method, url, status: r.status });
  // k6 tags every sample with its scenario; here: the scenario of the call that last started.
  const tags = { scenario: exec.scenario.name, ...params.tags };
  record('http_req_duration', 'trend', r.duration, tags);
  record('http_req_failed', 'rate', r.status === 0 || r.status >= 400 ? 1 : 0, tags);
  return { status: r.status, body: r.body, error: r.error, headers: r.headers, timings: { duration: r.duration }, json: () => JSON.parse(r.body) };
}

const http = {
  request,
  get: (url: string, params?: Params) => request('GET', url, null, params),
  post: (url: string, body?: string | null, params?: Params) => request('POST', url, body, params),
  put: (url: string, body?: string | null, params?: Params) => request('PUT', url, body, params),
  del: (url: string, body?: string | null, params?: Params) => request('DELETE', url, body, params),
  batch: (reqs: { method: string; url: string; body?: string | null; params?: Params }[]) => reqs.map((r) => request(r.method, r.url, r.body, r.params)),
};
export default http;
