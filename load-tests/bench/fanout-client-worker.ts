import { connectBenchSocket, isRetryableConnectError, type BenchSocket } from './fanout-client-socket.ts';
import { LatencyHistogram } from './fanout-histogram.ts';
import type { BenchClientKind, FromWorker, SocketTarget, ToWorker, WorkerPhaseResult } from './fanout-protocol.ts';

/**
 * A client worker process of the fan-out benchmark (forked by
 * fanout-clients.ts). It holds its share of the sockets (fanout-client-socket.ts:
 * the light client or socket.io-client), and for each `tweet` event records
 * the latency from `tweet.createdAt` to receipt and which id arrived.
 */

type ClientSocket = BenchSocket;

const send = (m: FromWorker) => process.send?.(m);

let sockets: ClientSocket[] = [];
let perSocket: number[] = [];
const histogram = new LatencyHistogram();
/** Per tweet id of the phase: receipts so far, and its createdAt in ms (parsed once per tweet, not once per delivery). */
interface TweetTally {
  n: number;
  createdAtMs: number;
}
let tallies = new Map<string, TweetTally>();
let phase = 'idle';
let received = 0;
let firstReceiptAt: number | null = null;
let lastReceiptAt: number | null = null;
let disconnects = 0;
const disconnectReasons: string[] = [];
/** Ids of the pending `expect`, not yet received by every socket. */
let waiting: { missing: Set<string>; ids: string[]; timer: NodeJS.Timeout } | null = null;

function onTweet(index: number, id: string, createdAt: () => string): void {
  const now = Date.now();
  received++;
  perSocket[index]!++;
  firstReceiptAt ??= now;
  lastReceiptAt = now;
  let tally = tallies.get(id);
  if (tally === undefined) {
    tally = { n: 0, createdAtMs: Date.parse(createdAt()) };
    tallies.set(id, tally);
  }
  // Every delivery of one id carries the same createdAt (the server serializes one tweet object per push).
  histogram.record(now - tally.createdAtMs);
  const n = ++tally.n;
  if (n === sockets.length) {
    send({ t: 'done', id });
    if (waiting?.missing.delete(id) && waiting.missing.size === 0) answer(false);
  }
}

/** Handshakes refused with "retry" are tried again this often, after 0.5, 1, 1.5 … s. */
const CONNECT_RETRIES = 5;
let connectRetries = 0;

async function connectOne(kind: BenchClientKind, index: number, target: SocketTarget, timeoutMs: number): Promise<ClientSocket> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await connectBenchSocket(kind, target, timeoutMs, {
        onTweet: (id, createdAt) => onTweet(index, id, createdAt),
        onDisconnect: (reason) => {
          disconnects++;
          if (disconnectReasons.length < 5) disconnectReasons.push(reason);
        },
      });
    } catch (err) {
      if (attempt >= CONNECT_RETRIES || !isRetryableConnectError(err as Error)) throw err;
      connectRetries++;
      await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
    }
  }
}

/** Opens more sockets, adding to those already open. */
async function connectAll(kind: BenchClientKind, targets: SocketTarget[], concurrency: number, timeoutMs: number): Promise<void> {
  const started = Date.now();
  const base = perSocket.length;
  perSocket.push(...new Array<number>(targets.length).fill(0));
  const opened: (ClientSocket | undefined)[] = new Array(targets.length);
  const errors: string[] = [];
  let failed = 0;
  let next = 0;
  const lane = async () => {
    while (next < targets.length) {
      const i = next++;
      try {
        opened[i] = await connectOne(kind, base + i, targets[i]!, timeoutMs);
      } catch (err) {
        failed++;
        if (errors.length < 5) errors.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, lane));
  sockets.push(...opened.filter((s): s is ClientSocket => s !== undefined));
  send({ t: 'connected', connected: sockets.length, failed, retried: connectRetries, errors, ms: Date.now() - started });
}

function startPhase(name: string): void {
  phase = name;
  histogram.clear();
  tallies = new Map();
  received = 0;
  firstReceiptAt = null;
  lastReceiptAt = null;
  perSocket.fill(0);
}

function answer(timedOut: boolean): void {
  if (!waiting) return;
  clearTimeout(waiting.timer);
  const expected = new Set(waiting.ids);
  const result: WorkerPhaseResult = {
    phase,
    sockets: sockets.length,
    received,
    counts: Object.fromEntries(waiting.ids.map((id) => [id, tallies.get(id)?.n ?? 0])),
    unexpected: [...tallies].reduce((n, [id, t]) => (expected.has(id) ? n : n + t.n), 0),
    minPerSocket: perSocket.length === 0 ? 0 : Math.min(...perSocket),
    maxPerSocket: perSocket.length === 0 ? 0 : Math.max(...perSocket),
    histogram: histogram.entries(),
    firstReceiptAt,
    lastReceiptAt,
    disconnects,
    disconnectReasons: [...disconnectReasons],
    timedOut,
  };
  waiting = null;
  send({ t: 'result', ...result });
}

function expect(ids: string[], timeoutMs: number): void {
  const missing = new Set(ids.filter((id) => (tallies.get(id)?.n ?? 0) < sockets.length));
  waiting = { missing, ids, timer: setTimeout(() => answer(true), timeoutMs) };
  if (missing.size === 0) answer(false);
}

async function closeAll(): Promise<void> {
  for (const s of sockets) s.close();
  sockets = [];
  perSocket = [];
  disconnects = 0;
  disconnectReasons.length = 0;
  // Let the close frames go out before saying so.
  await new Promise((r) => setTimeout(r, 200));
  send({ t: 'closed' });
}

process.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'connect':
      void connectAll(m.client, m.targets, m.concurrency, m.timeoutMs);
      break;
    case 'phase':
      startPhase(m.name);
      break;
    case 'expect':
      expect(m.ids, m.timeoutMs);
      break;
    case 'close':
      void closeAll();
      break;
    case 'exit':
      process.exit(0);
  }
});
// The harness died: do not linger with thousands of sockets open.
process.on('disconnect', () => process.exit(0));
