import type { HistogramEntries } from './fanout-histogram.ts';

/**
 * Messages between the fan-out harness and its client worker processes
 * (child_process IPC, JSON). A worker holds a few thousand Socket.IO
 * websocket connections and counts what each receives.
 */

export interface SocketTarget {
  /** Base URL of the server node this socket connects to. */
  url: string;
  /** Sent as `auth: {token}` in the handshake (the baseline ignores it). */
  token: string;
}

/** Which Socket.IO client the workers run (BENCH_CLIENT): the light one (over `net`), or socket.io-client 4.8. */
export type BenchClientKind = 'light' | 'socket.io-client';

export type ToWorker =
  /** Open every target's socket (in addition to those already open) with that client, at most `concurrency` handshakes at once. */
  | { t: 'connect'; client: BenchClientKind; targets: SocketTarget[]; concurrency: number; timeoutMs: number }
  /** Forget the previous phase's counts and latencies. */
  | { t: 'phase'; name: string }
  /** Answer with a `result` once every socket has every id, or after timeoutMs. */
  | { t: 'expect'; ids: string[]; timeoutMs: number }
  /** Disconnect every socket (answer `closed`). */
  | { t: 'close' }
  | { t: 'exit' };

export interface WorkerPhaseResult {
  phase: string;
  /** Sockets this worker holds (each must receive every id). */
  sockets: number;
  /** Every `tweet` event received in the phase. */
  received: number;
  /** Receipts per expected id. */
  counts: Record<string, number>;
  /** Receipts of ids that were not expected in this phase. */
  unexpected: number;
  /** Fewest and most `tweet` events one socket received in the phase. */
  minPerSocket: number;
  maxPerSocket: number;
  histogram: HistogramEntries;
  /** Date.now() of the first and last receipt in the phase; null when nothing arrived. */
  firstReceiptAt: number | null;
  lastReceiptAt: number | null;
  /** Sockets that disconnected since they connected, and the first reasons. */
  disconnects: number;
  disconnectReasons: string[];
  /** True when it answered because of the timeout, not because everything arrived. */
  timedOut: boolean;
}

export type FromWorker =
  /** `connected`: sockets open in this worker now, all connect calls included; `retried`: handshakes refused with "retry" and tried again, since the worker started. */
  | { t: 'connected'; connected: number; failed: number; retried: number; errors: string[]; ms: number }
  /** Every socket of this worker has received this tweet id (sent once per id). */
  | { t: 'done'; id: string }
  | ({ t: 'result' } & WorkerPhaseResult)
  | { t: 'closed' };
