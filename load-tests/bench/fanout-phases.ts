import type { ClientPool } from './fanout-clients.ts';
import { LatencyHistogram, type LatencySummary } from './fanout-histogram.ts';
import { startUsageMeter, type CpuUsage, type MeteredPids } from './fanout-meter.ts';
import type { WorkerPhaseResult } from './fanout-protocol.ts';
import type { PushBatchTotals } from './fanout-systems.ts';

/**
 * The two kinds of load of the fan-out benchmark, the same for Flock and
 * the baseline; only the Poster differs.
 *
 * - fixed: tweets posted on a fixed schedule (open loop: the next post does
 *   not wait for the previous one).
 * - saturation: as fast as the whole system delivers: `window` posting lanes,
 *   each posting its next tweet as soon as every socket has received its
 *   previous one (closed loop). Open-loop overload would measure queues
 *   growing until slow-consumer limits cut sockets off, not throughput.
 *
 * - burst: `tweets` tweets posted back to back by `concurrency` lanes that do
 *   NOT wait for deliveries (bounded open loop): the servers get tweets faster
 *   than the clients take them, so this is where a server is saturated and
 *   batching shows. Bounded, so send buffers stay far below the slow-consumer
 *   limit (50 tweets of 501 bytes: 25 KB per socket).
 *
 * After the last post, the harness waits until every socket has every id
 * (or the drain timeout), then stops the CPU meter.
 */

/** Posts one tweet and resolves to its id. */
export type Poster = (seq: number) => Promise<string>;

export type PhaseName = 'warmup' | 'fixed' | 'saturation' | 'burst';

export interface PhaseResult {
  name: PhaseName;
  /** Tweets posted successfully. */
  tweets: number;
  postErrors: number;
  postErrorSamples: string[];
  /** HTTP latency of the posts themselves. */
  postMs: LatencySummary;
  sockets: number;
  /** tweets × sockets */
  expected: number;
  /** Receipts of the phase's tweets. */
  delivered: number;
  /** Expected receipts that never came (per socket, per tweet). */
  lost: number;
  /** Receipts beyond one per socket and tweet. */
  duplicates: number;
  /** Receipts of ids that were not posted in this phase. */
  unexpected: number;
  /** From the first post to the last receipt. */
  seconds: number;
  deliveriesPerSecond: number;
  /** tweet.createdAt → receipt, over every receipt. */
  latencyMs: LatencySummary;
  cpu: CpuUsage;
  /** Server CPU-seconds (both nodes) per million deliveries. */
  serverCpuPerMillion: number;
  disconnects: number;
  disconnectReasons: string[];
  /** Some worker stopped waiting for the last deliveries at the drain timeout. */
  drainTimedOut: boolean;
  /** Flock: live pushes per coalesced batch over the phase (LIVE_PUSH_COALESCE_MS), on the posting node; null for the baseline. */
  pushesPerBatch: number | null;
  /** Flock: mean length (ms) of the coalescing windows that closed with pushes waiting in the phase (stretched under load); null when none did, or for the baseline. */
  meanWindowMs: number | null;
  /** Flock: mean time (ms) from a tweet's createdAt to its emit on the posting node (transaction, commit, coalescing window); null for the baseline. */
  meanEmitMs: number | null;
}

export interface PhaseContext {
  pool: ClientPool;
  post: Poster;
  pids: MeteredPids;
  drainTimeoutMs: number;
  /** Sequence numbers of posts continue across phases, so texts stay distinct. */
  nextSeq: { value: number };
  /** Cumulative live pushes and batches of the servers (Flock), read before and after a phase. */
  pushBatches: () => Promise<PushBatchTotals | null>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Posting {
  ids: string[];
  errors: string[];
  postMs: LatencyHistogram;
}

async function timedPost(ctx: PhaseContext, posting: Posting): Promise<string | null> {
  const started = performance.now();
  try {
    const id = await ctx.post(ctx.nextSeq.value++);
    posting.postMs.record(performance.now() - started);
    posting.ids.push(id);
    return id;
  } catch (err) {
    posting.errors.push((err as Error).message);
    return null;
  }
}

async function measure(ctx: PhaseContext, name: PhaseName, load: (posting: Posting) => Promise<void>): Promise<PhaseResult> {
  ctx.pool.startPhase(name);
  const posting: Posting = { ids: [], errors: [], postMs: new LatencyHistogram() };
  const batches0 = await ctx.pushBatches();
  const stopMeter = await startUsageMeter(ctx.pids);
  const started = Date.now();
  await load(posting);
  const results = await ctx.pool.expect(posting.ids, ctx.drainTimeoutMs);
  const cpu = await stopMeter();
  const batches1 = await ctx.pushBatches();
  // Sum ÷ count of one metric over the phase, from the totals read before and after it; null when nothing was counted.
  const mean = (sum: keyof PushBatchTotals, count: keyof PushBatchTotals, scale = 1): number | null =>
    batches0 && batches1 && batches1[count] > batches0[count] ? (scale * (batches1[sum] - batches0[sum])) / (batches1[count] - batches0[count]) : null;
  const pushesPerBatch = mean('pushes', 'batches');
  const meanWindowMs = mean('windowSeconds', 'windows', 1000);
  const meanEmitMs = mean('emitSeconds', 'emits', 1000);
  return summarizePhase(name, posting, results, started, cpu, { pushesPerBatch, meanWindowMs, meanEmitMs });
}

function summarizePhase(
  name: PhaseName,
  posting: Posting,
  results: WorkerPhaseResult[],
  started: number,
  cpu: CpuUsage,
  push: Pick<PhaseResult, 'pushesPerBatch' | 'meanWindowMs' | 'meanEmitMs'>,
): PhaseResult {
  const latency = new LatencyHistogram();
  let delivered = 0;
  let lost = 0;
  let duplicates = 0;
  for (const r of results) {
    latency.merge(r.histogram);
    for (const id of posting.ids) {
      const n = r.counts[id] ?? 0;
      delivered += n;
      lost += Math.max(0, r.sockets - n);
      duplicates += Math.max(0, n - r.sockets);
    }
  }
  const sockets = results.reduce((n, r) => n + r.sockets, 0);
  const last = Math.max(...results.map((r) => r.lastReceiptAt ?? started));
  const seconds = Math.max(0.001, (last - started) / 1000);
  return {
    name,
    tweets: posting.ids.length,
    postErrors: posting.errors.length,
    postErrorSamples: posting.errors.slice(0, 5),
    postMs: posting.postMs.summary(),
    sockets,
    expected: posting.ids.length * sockets,
    delivered,
    lost,
    duplicates,
    unexpected: results.reduce((n, r) => n + r.unexpected, 0),
    seconds,
    deliveriesPerSecond: delivered / seconds,
    latencyMs: latency.summary(),
    cpu,
    serverCpuPerMillion: delivered === 0 ? NaN : (cpu.servers / delivered) * 1e6,
    disconnects: results.reduce((n, r) => n + r.disconnects, 0),
    disconnectReasons: results.flatMap((r) => r.disconnectReasons).slice(0, 5),
    drainTimedOut: results.some((r) => r.timedOut),
    ...push,
  };
}

/** `rate` tweets a second for `seconds`, each post fired at its scheduled time. */
export function fixedRatePhase(ctx: PhaseContext, name: 'warmup' | 'fixed', rate: number, seconds: number): Promise<PhaseResult> {
  return measure(ctx, name, async (posting) => {
    const count = Math.max(1, Math.round(rate * seconds));
    const interval = 1000 / rate;
    const t0 = performance.now();
    const inFlight: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      const wait = t0 + i * interval - performance.now();
      if (wait > 0) await sleep(wait);
      inFlight.push(timedPost(ctx, posting));
    }
    await Promise.all(inFlight);
  });
}

/** `window` lanes post back to back for `seconds`, each waiting until its previous tweet reached every socket. */
export function saturationPhase(ctx: PhaseContext, window: number, seconds: number): Promise<PhaseResult> {
  return measure(ctx, 'saturation', async (posting) => {
    const deadline = performance.now() + seconds * 1000;
    const lane = async () => {
      while (performance.now() < deadline) {
        const id = await timedPost(ctx, posting);
        if (id === null) await sleep(50);
        else await ctx.pool.waitTweet(id, ctx.drainTimeoutMs);
      }
    };
    await Promise.all(Array.from({ length: window }, lane));
  });
}

/** `tweets` posts by `concurrency` lanes, each posting its next as soon as the previous POST was answered (not delivered). */
export function burstPhase(ctx: PhaseContext, tweets: number, concurrency: number): Promise<PhaseResult> {
  return measure(ctx, 'burst', async (posting) => {
    let next = 0;
    const lane = async () => {
      while (next < tweets) {
        next++;
        await timedPost(ctx, posting);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, tweets) }, lane));
  });
}
