import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { registerCleanup } from './cleanup.ts';
import type { BenchClientKind, FromWorker, SocketTarget, ToWorker, WorkerPhaseResult } from './fanout-protocol.ts';

/**
 * The client side of the fan-out benchmark: worker processes (child_process
 * fork, so each has its own event loop and file-descriptor budget), each
 * holding a contiguous share of the sockets. The harness talks to them only
 * through this class.
 */

const WORKER = path.join(import.meta.dirname, 'fanout-client-worker.ts');

export interface ConnectOutcome {
  /** Sockets open now, over every worker and every connect call. */
  connected: number;
  failed: number;
  /** Handshakes refused with "retry" (FLOCK_ERR_UNAVAILABLE) and tried again, all connect calls included. */
  retried: number;
  errors: string[];
  /** Wall-clock milliseconds until the slowest worker was done. */
  ms: number;
}

type ResultMessage = Extract<FromWorker, { t: 'result' }>;

class Worker {
  private readonly waiters = new Map<FromWorker['t'], ((m: FromWorker) => void)[]>();

  constructor(
    readonly child: ChildProcess,
    onDone: (id: string) => void,
  ) {
    child.on('message', (m: FromWorker) => {
      if (m.t === 'done') return onDone(m.id);
      const queue = this.waiters.get(m.t);
      queue?.shift()?.(m);
    });
  }

  send(m: ToWorker): void {
    this.child.send(m);
  }

  /** The next message of this type; rejects if the worker exits first. */
  next<T extends FromWorker['t']>(type: T): Promise<Extract<FromWorker, { t: T }>> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`client worker ${this.child.pid} exited (code ${code})`));
      this.child.once('exit', onExit);
      const queue = this.waiters.get(type) ?? [];
      queue.push((m) => {
        this.child.off('exit', onExit);
        resolve(m as Extract<FromWorker, { t: T }>);
      });
      this.waiters.set(type, queue);
    });
  }
}

export class ClientPool {
  /** Tweet id → workers that reported every one of their sockets received it. */
  private doneWorkers = new Map<string, number>();
  private readonly tweetWaiters = new Map<string, () => void>();

  private readonly workers: Worker[];

  private constructor(
    count: number,
    readonly client: BenchClientKind,
  ) {
    this.workers = Array.from({ length: count }, () => {
      const child = fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      return new Worker(child, (id) => this.workerDone(id));
    });
  }

  /** Forks `count` workers that will run `client`; they are killed on Ctrl-C or when the harness exits. */
  static start(count: number, client: BenchClientKind): ClientPool {
    const pool = new ClientPool(count, client);
    const unregister = registerCleanup(async () => pool.kill());
    const exited = () => pool.workers.every((w) => w.child.exitCode !== null || w.child.signalCode !== null);
    for (const w of pool.workers) w.child.once('exit', () => exited() && unregister());
    process.once('exit', () => pool.kill());
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  pids(): number[] {
    return this.workers.map((w) => w.child.pid ?? -1);
  }

  private workerDone(id: string): void {
    const n = (this.doneWorkers.get(id) ?? 0) + 1;
    this.doneWorkers.set(id, n);
    if (n === this.workers.length) {
      this.tweetWaiters.get(id)?.();
      this.tweetWaiters.delete(id);
    }
  }

  /** Splits the targets into contiguous shares, one per worker, and opens them all (in addition to those already open). */
  async connect(targets: readonly SocketTarget[], concurrencyPerWorker: number, timeoutMs: number): Promise<ConnectOutcome> {
    const share = Math.ceil(targets.length / this.workers.length);
    const replies = this.workers.map((w) => w.next('connected'));
    this.workers.forEach((w, k) =>
      w.send({ t: 'connect', client: this.client, targets: targets.slice(k * share, (k + 1) * share), concurrency: concurrencyPerWorker, timeoutMs }),
    );
    const all = await Promise.all(replies);
    return {
      connected: all.reduce((n, r) => n + r.connected, 0),
      failed: all.reduce((n, r) => n + r.failed, 0),
      retried: all.reduce((n, r) => n + r.retried, 0),
      errors: all.flatMap((r) => r.errors).slice(0, 10),
      ms: Math.max(...all.map((r) => r.ms)),
    };
  }

  startPhase(name: string): void {
    this.doneWorkers = new Map();
    this.tweetWaiters.clear();
    for (const w of this.workers) w.send({ t: 'phase', name });
  }

  /** Resolves true once every socket received the tweet, false after timeoutMs. */
  waitTweet(id: string, timeoutMs: number): Promise<boolean> {
    if (this.doneWorkers.get(id) === this.workers.length) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.tweetWaiters.delete(id);
        resolve(false);
      }, timeoutMs);
      this.tweetWaiters.set(id, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Every worker's counts for the phase, once all sockets have all ids or after timeoutMs. */
  async expect(ids: string[], timeoutMs: number): Promise<WorkerPhaseResult[]> {
    const replies = this.workers.map((w) => w.next('result'));
    for (const w of this.workers) w.send({ t: 'expect', ids, timeoutMs });
    return (await Promise.all(replies)).map(({ t: _t, ...r }: ResultMessage) => r);
  }

  async close(): Promise<void> {
    const replies = this.workers.map((w) => w.next('closed'));
    for (const w of this.workers) w.send({ t: 'close' });
    await Promise.all(replies);
  }

  /** Asks the workers to exit; SIGKILL whatever is left after 5 s. */
  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.child.exitCode !== null || w.child.signalCode !== null) return resolve();
            const timer = setTimeout(() => w.child.kill('SIGKILL'), 5000);
            w.child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            w.send({ t: 'exit' });
          }),
      ),
    );
  }

  private kill(): void {
    for (const w of this.workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  }
}
