import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import exec from './execution.ts';
import { registry, type Sample } from './registry.ts';

/**
 * Runs a k6 scenario under Node with the k6 shims (node --import ./register.mjs run.ts <plan>):
 * setup(), then the exec functions on a schedule standing in for k6's executors, then the
 * thresholds of the script's options evaluated on what was recorded, then handleSummary. Prints
 * one JSON line with the verdicts. A stand-in for k6, not k6: it proves the scripts' own logic
 * against a real gateway, not k6's scheduling or its protocol stacks.
 */

export interface Plan {
  script: string;
  env: Record<string, string>;
  /** Each group: `count` calls of `exec`, the first at `atMs` after setup, `spacingMs` apart. */
  calls: { exec: string; scenario: string; count: number; atMs: number; spacingMs: number }[];
}

type Module = Record<string, unknown> & {
  options?: { thresholds?: Record<string, string[]> };
  setup?: () => unknown;
  handleSummary?: (data: unknown) => Record<string, string>;
};

const plan = JSON.parse(process.argv[2]!) as Plan;
(globalThis as Record<string, unknown>).__ENV = plan.env;
// k6 reads this one from its own environment; Node's TLS (fetch in the HTTP worker, ws) honours
// NODE_TLS_REJECT_UNAUTHORIZED the same way.
if (plan.env.K6_INSECURE_SKIP_TLS_VERIFY === 'true') process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
const mod = (await import(pathToFileURL(path.resolve(plan.script)).href)) as Module;
const data = mod.setup ? mod.setup() : undefined;
const startTime = Date.now();
const pending: Promise<unknown>[] = [];
let vu = 0;
for (const group of plan.calls) {
  const fn = mod[group.exec];
  if (typeof fn !== 'function') throw new Error(`${plan.script} exports no function ${group.exec}`);
  for (let i = 0; i < group.count; i++) {
    const id = ++vu;
    pending.push(
      new Promise((resolve, reject) =>
        setTimeout(() => {
          exec.vu.idInTest = id;
          exec.scenario.name = group.scenario;
          exec.scenario.startTime = startTime + group.atMs;
          exec.scenario.iterationInTest = i;
          try {
            Promise.resolve((fn as (d: unknown) => unknown)(data)).then(resolve, reject);
          } catch (err) {
            reject(err);
          }
        }, group.atMs + i * group.spacingMs),
      ),
    );
  }
}
await Promise.all(pending);

// k6-like aggregates of what was recorded.
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
function values(type: string, samples: Sample[]): Record<string, number> {
  const v = samples.map((s) => s.value);
  const seconds = (Date.now() - startTime) / 1000;
  if (type === 'counter') return { count: v.reduce((a, b) => a + b, 0), rate: v.reduce((a, b) => a + b, 0) / seconds };
  if (type === 'rate') {
    const passes = v.filter((x) => x !== 0).length;
    return { rate: v.length ? passes / v.length : 0, passes, fails: v.length - passes };
  }
  const sorted = [...v].sort((a, b) => a - b);
  return { avg: v.reduce((a, b) => a + b, 0) / (v.length || 1), min: sorted[0] ?? 0, med: pct(sorted, 50), max: sorted[sorted.length - 1] ?? 0, 'p(95)': pct(sorted, 95), 'p(99)': pct(sorted, 99) };
}

if (registry.checks.length > 0) {
  registry.metrics.set('checks', { type: 'rate', samples: registry.checks.map((c) => ({ value: c.ok ? 1 : 0, tags: { check: c.name } })) });
}

const summary: { metrics: Record<string, { type: string; values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }> } = { metrics: {} };
for (const [name, m] of registry.metrics) summary.metrics[name] = { type: m.type, values: values(m.type, m.samples) };
const verdicts: Record<string, boolean> = {};
for (const [key, exprs] of Object.entries(mod.options?.thresholds ?? {})) {
  const sel = /^([^{]+)(?:\{([^:}]+):([^}]+)\})?$/.exec(key)!;
  const m = registry.metrics.get(sel[1]!);
  if (!m) continue; // no samples: k6 does not judge it either
  const samples = sel[2] ? m.samples.filter((s) => s.tags[sel[2]!] === sel[3]) : m.samples;
  if (samples.length === 0) continue;
  const vals = values(m.type, samples);
  const entry = (summary.metrics[key] ??= { type: m.type, values: vals });
  entry.thresholds = {};
  for (const expr of exprs) {
    const e = /^(count|rate|avg|min|max|med|p\(\d+\))\s*(<=|>=|==|<|>)\s*([\d.]+)$/.exec(expr);
    if (!e) throw new Error(`the shim cannot evaluate threshold ${key}: ${expr}`);
    const x = vals[e[1]!]!;
    const y = Number(e[3]);
    const ok = { '<': x < y, '<=': x <= y, '>': x > y, '>=': x >= y, '==': x === y }[e[2] as '<'];
    entry.thresholds[expr] = { ok };
    verdicts[`${key} ${expr}`] = ok;
  }
}
const outputs = mod.handleSummary ? mod.handleSummary(summary) : {};
for (const [file, content] of Object.entries(outputs)) {
  if (file === 'stdout') continue;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}
process.stdout.write(
  `${JSON.stringify({
    verdicts,
    values: Object.fromEntries(Object.entries(summary.metrics).map(([k, v]) => [k, v.values])),
    failedChecks: registry.checks.filter((c) => !c.ok).map((c) => c.name),
    // Tags of counter samples (e.g. why handshakes failed).
    counterTags: Object.fromEntries(
      [...registry.metrics].filter(([, m]) => m.type === 'counter').map(([name, m]) => [name, m.samples.filter((x) => Object.keys(x.tags).length > 0).map((x) => x.tags)]),
    ),
    requests: registry.requests.length,
    files: Object.keys(outputs).filter((f) => f !== 'stdout'),
    stdout: outputs.stdout ?? '',
  })}\n`,
);
process.exit(0);
