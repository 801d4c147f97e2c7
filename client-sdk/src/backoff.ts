export interface BackoffOptions {
  /** Delay of the first retry, in ms. @default 500 */
  minDelayMs?: number;
  /** Upper bound of any delay, in ms. @default 30000 */
  maxDelayMs?: number;
  /** Growth per attempt. @default 2 */
  factor?: number;
}

/**
 * Exponential backoff with "equal jitter": half of the exponential delay is fixed, the other half
 * random, so clients disconnected together (a node drained, a network blip) do not all come back
 * in the same instant, yet none retries immediately in a tight loop.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const min = opts.minDelayMs ?? 500;
  const max = opts.maxDelayMs ?? 30_000;
  const factor = opts.factor ?? 2;
  const exp = Math.min(max, min * factor ** Math.max(0, attempt));
  return Math.round(exp / 2 + random() * (exp / 2));
}
