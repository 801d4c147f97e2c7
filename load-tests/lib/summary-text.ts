/**
 * The end-of-test text every Flock scenario prints (handleSummary replaces k6's own summary, and
 * k6's textSummary lives in a remote jslib that a closed network cannot fetch): each threshold
 * with its verdict and the measured values it was judged on. Pure: k6's summary data in, text out.
 */

export interface SummaryMetric {
  type: 'counter' | 'gauge' | 'rate' | 'trend';
  values: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}

export interface SummaryData {
  metrics: Record<string, SummaryMetric>;
  state?: { testRunDurationMs?: number };
}

function fmt(metric: SummaryMetric): string {
  const v = metric.values;
  const n = (x: number | undefined, digits = 1) => (x === undefined ? '-' : Number.isInteger(x) ? String(x) : x.toFixed(digits));
  switch (metric.type) {
    case 'trend':
      return `avg=${n(v.avg)} p(50)=${n(v.med)} p(95)=${n(v['p(95)'])} p(99)=${n(v['p(99)'])} max=${n(v.max)}`;
    case 'rate':
      return `rate=${v.rate === undefined ? '-' : (v.rate * 100).toFixed(2)}% (${n(v.passes)} of ${n((v.passes ?? 0) + (v.fails ?? 0))})`;
    case 'counter':
      return `count=${n(v.count)} rate=${n(v.rate, 2)}/s`;
    case 'gauge':
      return `value=${n(v.value)} min=${n(v.min)} max=${n(v.max)}`;
  }
}

/** Names of the metrics with a failed threshold. */
export function failedThresholds(data: SummaryData): string[] {
  const failed: string[] = [];
  for (const name of Object.keys(data.metrics).sort()) {
    const t = data.metrics[name]!.thresholds;
    if (t && Object.keys(t).some((k) => !t[k]!.ok)) failed.push(name);
  }
  return failed;
}

export function summaryText(scenario: string, data: SummaryData, extraMetrics: readonly string[] = []): string {
  const lines: string[] = [];
  const seconds = data.state && data.state.testRunDurationMs !== undefined ? ` in ${(data.state.testRunDurationMs / 1000).toFixed(1)} s` : '';
  const failed = failedThresholds(data);
  lines.push(`${scenario}: ${failed.length === 0 ? 'every threshold met' : `THRESHOLDS FAILED: ${failed.join(', ')}`}${seconds}`);
  const names = Object.keys(data.metrics).sort();
  for (const name of names) {
    const m = data.metrics[name]!;
    if (!m.thresholds) continue;
    for (const expr of Object.keys(m.thresholds)) {
      lines.push(`  ${m.thresholds[expr]!.ok ? 'ok  ' : 'FAIL'} ${name} ${expr}   ${fmt(m)}`);
    }
  }
  for (const name of extraMetrics) {
    const m = data.metrics[name];
    if (m && !m.thresholds) lines.push(`       ${name}   ${fmt(m)}`);
  }
  return lines.join('\n') + '\n';
}
