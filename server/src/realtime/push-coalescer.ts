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
 * emitted at once, and opens a window of `windowMs`; pushes during the window
 * wait and are emitted together when it closes, which opens the next window.
 * A window that closes with nothing waiting makes the coalescer idle again. So
 * a lone push (a quiet gateway, or 5 tweets a second) gains no latency, and
 * under load the pushes leave in batches at most `windowMs` apart.
 *
 * Contract: pushes are emitted in the order they were queued, at most
 * `windowMs` after they were queued (at once when `maxBatch` are waiting);
 * nothing is added to or dropped from the at-most-once guarantee. With
 * `windowMs` 0 every push is emitted at once.
 */
export class PushCoalescer {
  private queue: (() => void)[] = [];
  /** Set while a window is open. */
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly o: {
      /** Length of a window in ms; 0 disables coalescing. */
      windowMs: number;
      /** This many waiting pushes are emitted at once, without waiting for the window to close. */
      maxBatch: number;
      /** Called with the size of every emitted batch. */
      onFlush?: (size: number) => void;
      /** An emit that throws is reported here; the rest of the batch still goes out. */
      onError: (err: unknown) => void;
    },
  ) {}

  push(emit: () => void): void {
    if (this.o.windowMs === 0) {
      this.run([emit]);
      return;
    }
    if (this.timer === null) {
      this.run([emit]);
      this.openWindow();
      return;
    }
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
      if (this.queue.length === 0) return; // idle again
      this.emitQueued();
      this.openWindow();
    }, this.o.windowMs);
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
