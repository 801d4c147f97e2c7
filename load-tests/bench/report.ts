/** Plain-text and Markdown tables for benchmark results; pure functions. */

export type Align = 'left' | 'right';

export interface Table {
  headers: readonly string[];
  rows: readonly (readonly string[])[];
  /** Per column; numbers read best right-aligned. @default 'left' for every column */
  align?: readonly Align[];
}

const pad = (s: string, width: number, align: Align) => (align === 'right' ? s.padStart(width) : s.padEnd(width));

/** Columns padded to their widest cell, a dashed rule under the headers. */
export function textTable(t: Table): string {
  const widths = t.headers.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => pad(c, widths[i]!, t.align?.[i] ?? 'left'))
      .join('  ')
      .trimEnd();
  return [line(t.headers), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line)].join('\n');
}

/** GitHub-flavoured Markdown, padded so the source reads as a table too. */
export function markdownTable(t: Table): string {
  const escape = (s: string) => s.replace(/\|/g, '\\|');
  const headers = t.headers.map(escape);
  const rows = t.rows.map((r) => r.map(escape));
  const widths = headers.map((h, i) => Math.max(3, h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => pad(c, widths[i]!, t.align?.[i] ?? 'left')).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (t.align?.[i] === 'right' ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/** A framed block of lines that cannot be missed in a scrolling terminal. */
export function banner(lines: readonly string[]): string {
  const width = Math.max(...lines.map((l) => l.length));
  const frame = '!'.repeat(width + 6);
  return [frame, ...lines.map((l) => `!! ${l.padEnd(width)} !!`), frame].join('\n');
}

export const format = {
  /** 12345.6 → "12,346" */
  count: (n: number) => Math.round(n).toLocaleString('en-US'),
  /** Milliseconds with a precision that fits the magnitude. */
  ms: (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)),
  /** 1.234 → "1.23×"; null (no counterpart) → "—" */
  ratio: (n: number | null) => (n === null || !Number.isFinite(n) ? '—' : `${n.toFixed(2)}×`),
  /** 87.4 → "87%"; null → "—" */
  percent: (n: number | null) => (n === null ? '—' : `${Math.round(n)}%`),
};
