import { summaryText, type SummaryData } from '../../lib/summary-text.ts';

/**
 * handleSummary for every scenario: the full k6 summary as JSON in SUMMARY_DIR (default: the
 * working directory; k6 creates no directories, run-all.sh does) named after the scenario and the
 * end time, and a short verdict on stdout (each threshold, ok or FAIL, with the values it was
 * judged on).
 */
export function summaryHandler(scenario: string, extraMetrics: readonly string[] = []) {
  return (data: SummaryData): Record<string, string> => {
    const dir = (__ENV.SUMMARY_DIR || '.').replace(/\/+$/, '') || '/';
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    return {
      [`${dir}/${scenario}-${stamp}.json`]: JSON.stringify(data, null, 2),
      stdout: summaryText(scenario, data, extraMetrics),
    };
  };
}
