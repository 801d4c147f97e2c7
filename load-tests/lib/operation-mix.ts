/**
 * A weighted mix of operations (http-crud's reads and writes): `pick(mix, r)` with r uniform in
 * [0, 1) returns each operation with probability weight / total.
 */

export type Mix<K extends string> = Readonly<Record<K, number>>;

export function validateMix<K extends string>(mix: Mix<K>): void {
  const weights = Object.values(mix) as number[];
  if (weights.some((w) => !(w >= 0) || !Number.isFinite(w))) throw new Error('mix weights must be finite and ≥ 0');
  if (weights.reduce((a, b) => a + b, 0) <= 0) throw new Error('mix weights must not all be 0');
}

export function pick<K extends string>(mix: Mix<K>, r: number): K {
  const keys = Object.keys(mix) as K[];
  const total = keys.reduce((sum, k) => sum + mix[k], 0);
  let at = r * total;
  for (const k of keys) {
    if (at < mix[k]) return k;
    at -= mix[k];
  }
  // r just below 1 with rounding: the last operation with any weight.
  return keys.filter((k) => mix[k] > 0).pop()!;
}
