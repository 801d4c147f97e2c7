/** A token bucket: `rate` tokens a second, holding at most `burst`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Bytes queued for a socket and not yet handed to the kernel, whatever its transport. */
export function bufferedBytes(conn: { transport: { name: string; socket?: unknown }; writeBuffer?: unknown[] }): number {
  const ws = conn.transport.socket as { getBufferedAmount?: () => number; bufferedAmount?: number } | undefined;
  if (ws && typeof ws.getBufferedAmount === 'function') return ws.getBufferedAmount(); // uWS
  if (ws && typeof ws.bufferedAmount === 'number') return ws.bufferedAmount; // ws (node:http)
  // Long-polling: packets waiting for the next poll.
  let n = 0;
  for (const p of conn.writeBuffer ?? []) n += typeof (p as { data?: unknown }).data === 'string' ? ((p as { data: string }).data.length) : 64;
  return n;
}
