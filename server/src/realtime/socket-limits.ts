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

/**
 * Bytes queued for a socket and not yet handed to the kernel, whatever its transport: the
 * transport's own buffer (uWS backpressure, or `ws` bufferedAmount) plus the packets engine.io
 * holds back while the transport is busy (for `ws` and long-polling that is where most waits).
 */
export function bufferedBytes(conn: { transport: { name: string; socket?: unknown }; writeBuffer?: unknown[] }): number {
  const ws = conn.transport.socket as { getBufferedAmount?: () => number; bufferedAmount?: number } | undefined;
  let n = 0;
  if (ws && typeof ws.getBufferedAmount === 'function') n = ws.getBufferedAmount(); // uWS
  else if (ws && typeof ws.bufferedAmount === 'number') n = ws.bufferedAmount; // ws (node:http)
  for (const p of conn.writeBuffer ?? []) {
    const data = (p as { data?: unknown }).data;
    n += typeof data === 'string' ? data.length : Buffer.isBuffer(data) ? data.length : 16;
  }
  return n;
}
