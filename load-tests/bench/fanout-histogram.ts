/**
 * Delivery latencies in whole milliseconds (the resolution of both ends:
 * `createdAt` is an ISO string with milliseconds and receipt is Date.now()).
 * Sparse, so client workers can ship theirs to the harness and the harness
 * can merge them; exact percentiles at 1 ms resolution.
 */

/** [milliseconds, count] pairs; what a worker sends over IPC. */
export type HistogramEntries = [number, number][];

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

const DENSE_MS = 120_000;

export class LatencyHistogram {
  /** counts[ms] up to DENSE_MS: recording (once per delivery in the client workers) is an array increment, not a Map update. */
  private counts: number[] = [];
  /** Latencies beyond DENSE_MS (a stalled run), sparse. */
  private readonly overflow = new Map<number, number>();
  private total = 0;
  private sum = 0;

  /** Negative values (clock rounding across processes) count as 0. */
  record(ms: number): void {
    const bucket = ms > 0 ? Math.round(ms) : 0;
    this.add(bucket, 1);
  }

  merge(entries: HistogramEntries): void {
    for (const [ms, n] of entries) this.add(ms, n);
  }

  private add(bucket: number, n: number): void {
    this.total += n;
    this.sum += bucket * n;
    if (bucket > DENSE_MS) {
      this.overflow.set(bucket, (this.overflow.get(bucket) ?? 0) + n);
      return;
    }
    const counts = this.counts;
    while (counts.length <= bucket) counts.push(0);
    counts[bucket]! += n;
  }

  /** Only the buckets that have samples, ascending. */
  entries(): HistogramEntries {
    const out: HistogramEntries = [];
    for (let ms = 0; ms < this.counts.length; ms++) if (this.counts[ms]! > 0) out.push([ms, this.counts[ms]!]);
    return out.concat([...this.overflow].sort((a, b) => a[0] - b[0]));
  }

  clear(): void {
    this.counts = [];
    this.overflow.clear();
    this.total = 0;
    this.sum = 0;
  }

  /** The smallest latency that at least q of the samples do not exceed (nearest rank). */
  percentile(q: number, sorted = this.entries()): number {
    if (this.total === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (const [ms, n] of sorted) {
      seen += n;
      if (seen >= rank) return ms;
    }
    return sorted[sorted.length - 1]![0];
  }

  summary(): LatencySummary {
    const sorted = this.entries();
    return {
      count: this.total,
      mean: this.total === 0 ? NaN : this.sum / this.total,
      p50: this.percentile(0.5, sorted),
      p95: this.percentile(0.95, sorted),
      p99: this.percentile(0.99, sorted),
      max: sorted.length === 0 ? NaN : sorted[sorted.length - 1]![0],
    };
  }
}
