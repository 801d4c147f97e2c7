import { describe, expect, it } from 'vitest';
import { EPOCH_MS, IdGenerator, MAX_ID, idAtTime, idTimestamp, isId } from '../../src/ids.ts';

const INT64_MAX = (1n << 63n) - 1n;

/** The three fields of the snowflake layout: 41 bits ms, 10 bits node, 12 bits sequence. */
function fields(id: string): { ms: bigint; node: bigint; seq: bigint } {
  const v = BigInt(id);
  return { ms: v >> 22n, node: (v >> 12n) & 1023n, seq: v & 4095n };
}

function expectStrictlyIncreasing(ids: readonly string[]): void {
  for (let i = 1; i < ids.length; i++) {
    if (!(BigInt(ids[i]!) > BigInt(ids[i - 1]!))) {
      throw new Error(`id #${i} (${ids[i]}) is not greater than id #${i - 1} (${ids[i - 1]})`);
    }
  }
}

/** A clock the test moves by hand. */
function manualClock(start: number): { now: () => number; set: (ms: number) => void } {
  let t = start;
  return { now: () => t, set: (ms) => (t = ms) };
}

describe('IdGenerator', () => {
  it('gives strictly increasing, unique ids under a burst of 100k calls', () => {
    const gen = new IdGenerator(7);
    const ids = Array.from({ length: 100_000 }, () => gen.next());
    expectStrictlyIncreasing(ids);
    expect(new Set(ids).size).toBe(100_000);
  });

  it('encodes the creation time, readable back with idTimestamp', () => {
    const at = Date.UTC(2025, 5, 15, 12, 30, 45, 123);
    const gen = new IdGenerator(1, () => at);
    const id = gen.next();
    expect(idTimestamp(id).toISOString()).toBe('2025-06-15T12:30:45.123Z');
    expect(fields(id).ms).toBe(BigInt(at - EPOCH_MS));
  });

  it('stamps ids from the real clock with the current time', () => {
    const before = Date.now();
    const id = new IdGenerator(0).next();
    const after = Date.now();
    const t = idTimestamp(id).getTime();
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(after);
  });

  it.each([0, 1, 512, 1023])('puts node id %i in the node bits', (nodeId) => {
    const gen = new IdGenerator(nodeId, () => EPOCH_MS + 1_000);
    const a = fields(gen.next());
    const b = fields(gen.next());
    expect(a.node).toBe(BigInt(nodeId));
    expect(b.node).toBe(BigInt(nodeId));
    expect(a.seq).toBe(0n);
    expect(b.seq).toBe(1n);
  });

  it('restarts the sequence at 0 in a new millisecond', () => {
    const clock = manualClock(EPOCH_MS + 5_000);
    const gen = new IdGenerator(3, clock.now);
    gen.next();
    gen.next();
    clock.set(EPOCH_MS + 5_001);
    expect(fields(gen.next())).toEqual({ ms: 5_001n, node: 3n, seq: 0n });
  });

  it('keeps ids increasing when the clock goes backwards', () => {
    const clock = manualClock(EPOCH_MS + 10_000);
    const gen = new IdGenerator(2, clock.now);
    const ids = [gen.next(), gen.next()];
    clock.set(EPOCH_MS + 9_000); // NTP step back by one second
    ids.push(gen.next(), gen.next());
    clock.set(EPOCH_MS + 9_500);
    ids.push(gen.next());
    clock.set(EPOCH_MS + 10_001);
    ids.push(gen.next());
    expectStrictlyIncreasing(ids);
    // While the clock is behind, ids stay at the last millisecond seen.
    expect(idTimestamp(ids[4]!).getTime()).toBe(EPOCH_MS + 10_000);
    expect(idTimestamp(ids[5]!).getTime()).toBe(EPOCH_MS + 10_001);
  });

  it('borrows the next millisecond after 4096 ids in one millisecond, and stays increasing', () => {
    const t = EPOCH_MS + 60_000;
    const clock = manualClock(t);
    const gen = new IdGenerator(9, clock.now);
    const ids = Array.from({ length: 4096 * 2 + 10 }, () => gen.next());
    expectStrictlyIncreasing(ids);
    expect(fields(ids[4095]!)).toEqual({ ms: 60_000n, node: 9n, seq: 4095n });
    expect(fields(ids[4096]!)).toEqual({ ms: 60_001n, node: 9n, seq: 0n });
    expect(fields(ids[8192]!)).toEqual({ ms: 60_002n, node: 9n, seq: 0n });
    // When the real clock catches up with the borrowed millisecond, ids still increase.
    clock.set(t + 1);
    ids.push(gen.next());
    clock.set(t + 3);
    ids.push(gen.next());
    expectStrictlyIncreasing(ids);
    expect(fields(ids.at(-1)!)).toEqual({ ms: 60_003n, node: 9n, seq: 0n });
  });

  it('orders ids of different nodes by millisecond, whatever the node ids', () => {
    const early = new IdGenerator(1023, () => EPOCH_MS + 100).next();
    const late = new IdGenerator(0, () => EPOCH_MS + 101).next();
    expect(BigInt(late) > BigInt(early)).toBe(true);
  });

  it('serializes ids as decimal strings that fit a signed 64-bit integer', () => {
    const gens = [new IdGenerator(1023), new IdGenerator(1023, () => EPOCH_MS + 2 ** 41 - 1)];
    for (const gen of gens) {
      const id = gen.next();
      expect(id).toMatch(/^[1-9]\d*$/);
      expect(BigInt(id) <= INT64_MAX).toBe(true);
      expect(BigInt(id).toString()).toBe(id);
      expect(isId(id)).toBe(true);
    }
    // Current ids are far beyond 2^53: they must not be handled as JS numbers.
    expect(BigInt(new IdGenerator(0).next()) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  it.each([-1, 1024, 1.5, Number.NaN])('rejects node id %s', (nodeId) => {
    expect(() => new IdGenerator(nodeId)).toThrow(RangeError);
  });
});

describe('idAtTime', () => {
  it('is a lower bound of the ids generated at that time and above those generated before', () => {
    const t = Date.UTC(2026, 0, 1);
    const before = new IdGenerator(1023, () => t - 1);
    for (let i = 0; i < 10; i++) before.next();
    const lastBefore = before.next();
    const firstAt = new IdGenerator(0, () => t).next();
    const cursor = BigInt(idAtTime(t));
    expect(cursor <= BigInt(firstAt)).toBe(true);
    expect(cursor > BigInt(lastBefore)).toBe(true);
    expect(idTimestamp(idAtTime(t)).getTime()).toBe(t);
  });

  it('clamps times before the epoch to 0', () => {
    expect(idAtTime(EPOCH_MS - 1_000)).toBe('0');
  });
});

describe('isId', () => {
  it.each(['0', '1', '123456789012345678', MAX_ID, INT64_MAX.toString()])('accepts %s', (v) => {
    expect(isId(v)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['negative', '-1'],
    ['2^63 (one past int64 max)', (INT64_MAX + 1n).toString()],
    ['20 digits', '12345678901234567890'],
    ['far too long', '1'.repeat(40)],
    ['letters', '12a4'],
    ['hex', '0x1f'],
    ['decimal point', '1.5'],
    ['exponent', '1e9'],
    ['plus sign', '+5'],
    ['whitespace', ' 123'],
    ['trailing newline', '123\n'],
  ])('rejects %s', (_label, v) => {
    expect(isId(v)).toBe(false);
  });
});

describe('idMinusMs', () => {
  it('gives a cursor that many milliseconds older, so every id of that window is newer than it', async () => {
    const { IdGenerator, idMinusMs, idTimestamp } = await import('../../src/ids.ts');
    let now = Date.UTC(2026, 10, 22, 12, 0, 0);
    const gen = new IdGenerator(7, () => now);
    const early = gen.next();
    now += 4000;
    const late = gen.next();
    const cursor = idMinusMs(late, 5000);
    expect(BigInt(early) > BigInt(cursor)).toBe(true);
    expect(idTimestamp(late).getTime() - idTimestamp(cursor).getTime()).toBe(5000);
    expect(BigInt(idMinusMs(late, 3000)) > BigInt(early)).toBe(true);
  });
});
