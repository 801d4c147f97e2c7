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

export class LatencyHistogram {
  private readonly counts = new Map<number, number>();
  private total = 0;
  private sum = 0;

  /** Negative values (clock rounding across processes) count as 0. */
  record(ms: number): void {
    const bucket = Math.max(0, Math.round(ms));
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1);
    this.total++;
    this.sum += bucket;
  }

  merge(entries: HistogramEntries): void {
    for (const [ms, n] of entries) {
      this.counts.set(ms, (this.counts.get(ms) ?? 0) + n);
      this.total += n;
      this.sum += ms * n;
    }
  }

  entries(): HistogramEntries {
    return [...this.counts.entries()];
  }

  clear(): void {
    this.counts.clear();
    this.total = 0;
    this.sum = 0;
  }

  /** The smallest latency that at least q of the samples do not exceed (nearest rank). */
  percentile(q: number, sorted = [...this.counts.entries()].sort((a, b) => a[0] - b[0])): number {
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
    const sorted = [...this.counts.entries()].sort((a, b) => a[0] - b[0]);
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
