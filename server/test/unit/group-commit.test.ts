import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/messaging/group-commit.ts';

/** A flush that waits until the test releases it, recording the batches it saw. */
function gatedFlush() {
  const batches: string[][] = [];
  const gates: (() => void)[] = [];
  const flush = async (_key: string, jobs: string[]) => {
    batches.push(jobs);
    await new Promise<void>((r) => gates.push(r));
    return jobs.map((j) => (j.startsWith('bad') ? new Error(j) : `ok:${j}`));
  };
  const release = async () => {
    while (gates.length === 0) await new Promise((r) => setImmediate(r));
    gates.shift()!();
  };
  return { batches, flush, release };
}

describe('GroupCommit', () => {
  it('flushes a lone call at once and groups the calls that arrive during a flush into one batch', async () => {
    const g = gatedFlush();
    const gc = new GroupCommit<string, string>(g.flush, () => 1, 100);
    const first = gc.submit('t', 'a');
    expect(g.batches).toEqual([['a']]); // no waiting for company
    const rest = ['b', 'c', 'd'].map((j) => gc.submit('t', j));
    const other = gc.submit('u', 'x'); // another key is not held up by t's flush
    expect(g.batches).toEqual([['a'], ['x']]);
    await g.release();
    await g.release();
    expect(await first).toBe('ok:a');
    expect(await other).toBe('ok:x');
    await g.release();
    expect(await Promise.all(rest)).toEqual(['ok:b', 'ok:c', 'ok:d']);
    expect(g.batches).toEqual([['a'], ['x'], ['b', 'c', 'd']]);
  });

  it('caps a batch by weight, fails only the job whose result is an error, and fails a whole batch whose flush throws', async () => {
    const g = gatedFlush();
    const gc = new GroupCommit<string, string>(g.flush, (j) => j.length, 4);
    const p = ['aa', 'bb', 'bad', 'c'].map((j) => gc.submit('t', j).catch((e: Error) => `error:${e.message}`));
    for (let i = 0; i < 3; i++) await g.release();
    expect(await Promise.all(p)).toEqual(['ok:aa', 'ok:bb', 'error:bad', 'ok:c']);
    expect(g.batches).toEqual([['aa'], ['bb'], ['bad', 'c']]);

    const broken = new GroupCommit<string, string>(async () => {
      throw new Error('database down');
    }, () => 1, 10);
    await expect(broken.submit('t', 'a')).rejects.toThrow('database down');
    await expect(broken.submit('t', 'b')).rejects.toThrow('database down'); // the key recovers for the next call
  });
});
