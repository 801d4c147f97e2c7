import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../bench/fanout-histogram.ts';

describe('fanout latency histogram', () => {
  it('gives nearest-rank percentiles at 1 ms, the mean and the max', () => {
    const h = new LatencyHistogram();
    for (let ms = 1; ms <= 100; ms++) h.record(ms);
    expect(h.summary()).toEqual({ count: 100, mean: 50.5, p50: 50, p95: 95, p99: 99, max: 100 });
  });

  it('rounds to whole ms, counts negative latencies as 0, and keeps stalls beyond the dense range', () => {
    const h = new LatencyHistogram();
    h.record(-3);
    h.record(2.4);
    h.record(2.6);
    h.record(500_000);
    h.record(200_000);
    expect(h.entries()).toEqual([
      [0, 1],
      [2, 1],
      [3, 1],
      [200_000, 1],
      [500_000, 1],
    ]);
    expect(h.summary().max).toBe(500_000);
    expect(h.percentile(0.8)).toBe(200_000);
  });

  it('merges the entries of other histograms (what the workers send) and clears', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    a.record(10);
    a.record(10);
    b.record(10);
    b.record(300_000);
    const total = new LatencyHistogram();
    total.merge(a.entries());
    total.merge(b.entries());
    expect(total.entries()).toEqual([
      [10, 3],
      [300_000, 1],
    ]);
    expect(total.summary()).toMatchObject({ count: 4, p50: 10, max: 300_000 });
    total.clear();
    expect(total.summary().count).toBe(0);
    expect(total.entries()).toEqual([]);
  });
});
