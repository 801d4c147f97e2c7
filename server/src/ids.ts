/**
 * 64-bit time-ordered ids (snowflake layout): 41 bits of milliseconds since
 * EPOCH_MS, 10 bits of node id, 12 bits of sequence. Ids from one node are
 * strictly increasing; ids from different nodes order by time to the
 * millisecond. Serialized as decimal strings (they exceed 2^53).
 */
export const EPOCH_MS = Date.UTC(2024, 0, 1);
const NODE_BITS = 10n;
const SEQ_BITS = 12n;
const MAX_SEQ = (1 << Number(SEQ_BITS)) - 1;

export class IdGenerator {
  private lastMs = -1;
  private seq = 0;

  constructor(
    readonly nodeId: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(nodeId) || nodeId < 0 || nodeId > 1023) throw new RangeError('nodeId must be 0–1023');
  }

  next(): string {
    let ms = this.now() - EPOCH_MS;
    if (ms < this.lastMs) ms = this.lastMs; // clock went back: keep ids increasing
    if (ms === this.lastMs) {
      this.seq++;
      if (this.seq > MAX_SEQ) {
        // 4096 ids in one millisecond: borrow the next millisecond.
        ms = this.lastMs + 1;
        this.seq = 0;
      }
    } else {
      this.seq = 0;
    }
    this.lastMs = ms;
    return ((BigInt(ms) << (NODE_BITS + SEQ_BITS)) | (BigInt(this.nodeId) << SEQ_BITS) | BigInt(this.seq)).toString();
  }
}

/** The creation time encoded in an id. */
export function idTimestamp(id: string): Date {
  return new Date(Number(BigInt(id) >> (NODE_BITS + SEQ_BITS)) + EPOCH_MS);
}

/** The smallest id that could be generated at the given time (for time-based cursors). */
export function idAtTime(ms: number): string {
  return (BigInt(Math.max(0, ms - EPOCH_MS)) << (NODE_BITS + SEQ_BITS)).toString();
}

/**
 * An id `ms` milliseconds older than `id` (the smallest id of that moment): a cursor that
 * overlaps a window before `id`, for consumers whose events may arrive out of order.
 */
export function idMinusMs(id: string, ms: number): string {
  return idAtTime(idTimestamp(id).getTime() - ms);
}

export const MAX_ID = ((1n << 63n) - 1n).toString();
export const isId = (v: string): boolean => /^\d{1,19}$/.test(v) && BigInt(v) <= BigInt(MAX_ID);
