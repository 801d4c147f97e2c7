import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/**
 * Emits live pushes in batches under load, at once when idle. Why: Socket.IO
 * on uWS broadcasts with uWS pub/sub, which queues published messages and
 * drains them once per event-loop iteration, corking each subscriber: every
 * message a socket got in that iteration leaves in ONE write. Emitting k tweets
 * in one synchronous run therefore costs about one syscall per socket instead of
 * k (measured: 8 tweets to 2,500 sockets, 1.9 µs of server CPU per delivery
 * against 8–9.5 µs when emitted apart; docs/realtime.md). Emits that reach
 * other nodes through the Redis adapter leave together too, so those nodes
 * publish them in one iteration as well.
 *
 * Policy (a leading-edge throttle): a push that finds the coalescer idle is
 * emitted at once, and opens a window; pushes during the window wait and are
 * emitted together when it closes, which opens the next window. A window
 * that closes with nothing waiting makes the coalescer idle again. So a lone
 * push (a quiet gateway, or 5 tweets a second) gains no latency, and under
 * load the pushes leave in batches at most one window apart.
 *
 * The window stretches with the load (`maxWindowMs` above `windowMs`): when
 * pushes arrived during a window and the event loop has been busy at least
 * HIGH_LOAD of the time lately (`load()`), the next window is twice as long,
 * up to `maxWindowMs`; when the loop is busy less than LOW_LOAD, or a push
 * waited a stretched window alone (pushes come one at a time), the next one
 * is half as long, back down to `windowMs`. While stretched, a push that
 * finds the coalescer idle waits for its window too (no leading edge), unless
 * the loop has time again (then the window drops to `windowMs` and the push
 * leaves at once): on a saturated gateway, pushes that arrive close together
 * leave together even when the first one found it idle. A saturated gateway
 * thus spends its loop on fewer, larger writes (one syscall per socket for
 * many pushes) instead of falling behind one push at a time; a gateway with
 * spare time, or whose pushes come one at a time, keeps the short window and
 * its leading edge.
 *
 * Contract: pushes are emitted in the order they were queued, at most one
 * window (≤ `maxWindowMs`) after they were queued (at once when `maxBatch`
 * are waiting); nothing is added to or dropped from the at-most-once
 * guarantee. With `windowMs` 0 every push is emitted at once.
 */
/** The loop busy at least this share of the time, and pushes arrived during the window: the next window doubles. */
export const HIGH_LOAD = 0.5;
/** The loop busy less than this share: the next window halves (not below `windowMs`), and an idle coalescer leads again. */
export const LOW_LOAD = 0.3;

export class PushCoalescer {
  private queue: (() => void)[] = [];
  /** Set while a window is open. */
  private timer: NodeJS.Timeout | null = null;
  /** Length of the next window. */
  private currentMs: number;
  /** Longest window; equal to `windowMs` when the window never stretches (no maximum above it, or no load reading). */
  private readonly maxMs: number;
  /** Pushes that arrived while the current window was open. */
  private joined = 0;
  /** The current window was opened by a push that waits in it (stretched, no leading edge). */
  private trailing = false;

  constructor(
    private readonly o: {
      /** Length of a window in ms when the gateway is not busy; 0 disables coalescing. */
      windowMs: number;
      /** Longest window under load (≥ windowMs). @default windowMs (no stretching) */
      maxWindowMs?: number;
      /** Recent event-loop utilization, 0–1 (a LoopLoad); read when a window closes. Without it the window never stretches. */
      load?: () => number;
      /** This many waiting pushes are emitted at once, without waiting for the window to close. */
      maxBatch: number;
      /** Called with the size of every emitted batch. */
      onFlush?: (size: number) => void;
      /** Called with the length (ms) of every window that closed with pushes waiting. */
      onWindow?: (ms: number) => void;
      /** An emit that throws is reported here; the rest of the batch still goes out. */
      onError: (err: unknown) => void;
    },
  ) {
    this.currentMs = o.windowMs;
    this.maxMs = o.load ? Math.max(o.windowMs, o.maxWindowMs ?? o.windowMs) : o.windowMs;
  }

  /** Length of the next window, in ms. */
  get windowMs(): number {
    return this.currentMs;
  }

  push(emit: () => void): void {
    if (this.o.windowMs === 0) {
      this.run([emit]);
      return;
    }
    if (this.timer === null) {
      // Stretched means loaded: the push waits for the others that are coming, unless the loop has time again.
      if (this.currentMs > this.o.windowMs && this.o.load!() < LOW_LOAD) this.currentMs = this.o.windowMs;
      this.trailing = this.currentMs > this.o.windowMs;
      if (this.trailing) this.queue.push(emit);
      else this.run([emit]);
      this.openWindow();
      return;
    }
    this.joined++;
    this.queue.push(emit);
    if (this.queue.length >= this.o.maxBatch) this.emitQueued();
  }

  /** Emits whatever waits now (before a kick, so a socket's last pushes precede its close; at shutdown). */
  flush(): void {
    this.emitQueued();
  }

  private openWindow(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      const waiting = this.queue.length;
      if (waiting > 0) this.o.onWindow?.(this.currentMs);
      this.adapt(this.joined > 0, this.trailing);
      this.joined = 0;
      this.trailing = false;
      if (waiting === 0) return; // idle again
      this.emitQueued();
      this.openWindow();
    }, this.currentMs);
  }

  /**
   * After a window: `joined` — pushes arrived while it was open; `trailing` — it was opened by a push
   * that waited in it. An empty window after a batch just ends the run of windows and says nothing
   * about the load, so it keeps the length; a lone push that waited a stretched window does.
   */
  private adapt(joined: boolean, trailing: boolean): void {
    if (this.maxMs === this.o.windowMs) return;
    const load = this.o.load!();
    if (joined && load >= HIGH_LOAD) this.currentMs = Math.min(this.maxMs, this.currentMs * 2);
    else if (load < LOW_LOAD || (trailing && !joined)) this.currentMs = Math.max(this.o.windowMs, this.currentMs / 2);
  }

  private emitQueued(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.run(batch);
  }

  private run(batch: (() => void)[]): void {
    for (const emit of batch) {
      try {
        emit();
      } catch (err) {
        this.o.onError(err);
      }
    }
    this.o.onFlush?.(batch.length);
  }
}

/**
 * The share of time the event loop was busy (not waiting for I/O), smoothed over about
 * `horizonMs`: an exponentially weighted average of `performance.eventLoopUtilization()` sampled
 * whenever it is read. Time the process waits for a CPU counts as busy, so a gateway on
 * oversubscribed cores reads as loaded too.
 */
export class LoopLoad {
  private last: EventLoopUtilization;
  private at: number;
  private value = 0;

  constructor(
    private readonly horizonMs = 1000,
    private readonly elu: () => EventLoopUtilization = () => performance.eventLoopUtilization(),
    private readonly now: () => number = () => performance.now(),
  ) {
    this.last = elu();
    this.at = now();
  }

  read(): number {
    const now = this.now();
    const dt = now - this.at;
    if (dt <= 0) return this.value;
    const current = this.elu();
    const active = current.active - this.last.active;
    const busy = active / Math.max(1e-9, active + current.idle - this.last.idle);
    this.last = current;
    this.at = now;
    this.value += (1 - Math.exp(-dt / this.horizonMs)) * (busy - this.value);
    return this.value;
  }
}
