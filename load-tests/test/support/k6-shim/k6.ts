import { registry } from './registry.ts';

export function check<T>(value: T, sets: Record<string, (v: T) => boolean>): boolean {
  let all = true;
  for (const [name, fn] of Object.entries(sets)) {
    const ok = Boolean(fn(value));
    registry.checks.push({ name, ok });
    all &&= ok;
  }
  return all;
}

export function fail(message?: string): never {
  throw new Error(message);
}

/** k6's sleep blocks the VU; here it blocks the runner's thread, which is what a VU is. */
export function sleep(seconds: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
}
