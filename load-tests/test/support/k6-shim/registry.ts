/** Everything the shims record, read by run.ts at the end. */
export interface Sample {
  value: number;
  tags: Record<string, string>;
}

export const registry = {
  metrics: new Map<string, { type: 'counter' | 'gauge' | 'rate' | 'trend'; samples: Sample[] }>(),
  checks: [] as { name: string; ok: boolean }[],
  requests: [] as { method: string; url: string; status: number }[],
};

export function record(name: string, type: 'counter' | 'gauge' | 'rate' | 'trend', value: number, tags: Record<string, string> = {}): void {
  let m = registry.metrics.get(name);
  if (!m) registry.metrics.set(name, (m = { type, samples: [] }));
  m.samples.push({ value, tags });
}
