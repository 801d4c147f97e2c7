import type { ClientPool } from './fanout-clients.ts';
import { rssBytes, settledRss, totalRssBytes } from './fanout-meter.ts';
import { burstPhase, fixedRatePhase, saturationPhase, type PhaseContext, type PhaseResult } from './fanout-phases.ts';
import type { SocketTarget } from './fanout-protocol.ts';
import type { MemoryResult, SystemKey, SystemResult } from './fanout-results.ts';
import type { ServerPair } from './fanout-systems.ts';

/**
 * One system's turn in the fan-out benchmark: memory before and after the
 * sockets connect, then the load phases, then disconnect and stop. The
 * server pair is always stopped; a failure is recorded, not thrown, so the
 * other systems still run and the report shows what happened.
 */

export interface SystemPlan {
  key: SystemKey;
  roomsPerSocket: number;
  targets: SocketTarget[];
  warmupSeconds: number;
  /** Tweets/s and seconds of the fixed-rate phase; null: memory only. */
  fixed: { rate: number; seconds: number } | null;
  /** Lanes and seconds of the saturation phase; null: skipped. */
  saturation: { window: number; seconds: number } | null;
  /** Tweets and posting lanes of the burst phase; null: skipped. */
  burst?: { tweets: number; concurrency: number } | null;
  /** PostgreSQL backends the servers use, metered per phase (Flock). */
  databasePids?: () => Promise<number[]>;
}

export interface SystemRunContext {
  pool: ClientPool;
  redisPid: number;
  drainTimeoutMs: number;
  nextSeq: { value: number };
  progress: (line: string) => void;
}

/** Per client worker, handshakes in flight at once. */
const CONNECT_CONCURRENCY = 32;
const CONNECT_TIMEOUT_MS = 60_000;
/** RSS readings wait until the servers' memory stops moving (see settledRss). */
const SETTLE = { minSeconds: 40, windowSeconds: 15, maxSeconds: 150, toleranceBytes: 2e6 };

function describe(p: PhaseResult): string {
  return (
    `${p.name}: ${p.tweets} tweets → ${p.delivered}/${p.expected} deliveries, ${Math.round(p.deliveriesPerSecond)}/s, ` +
    `p50/p99 ${p.latencyMs.p50}/${p.latencyMs.p99} ms, server ${p.cpu.servers.toFixed(2)} CPU-s ` +
    `(${p.serverCpuPerMillion.toFixed(2)}/M), client ${((p.cpu.clients / p.delivered) * 1e6).toFixed(1)} µs/deliv, ` +
    `${p.pushesPerBatch === null ? '' : `${p.pushesPerBatch.toFixed(1)} pushes/batch, `}${p.meanWindowMs === null ? '' : `window ${p.meanWindowMs.toFixed(0)} ms, `}${p.meanEmitMs === null ? '' : `created→emit ${p.meanEmitMs.toFixed(0)} ms, `}lost ${p.lost}${p.postErrors ? `, ${p.postErrors} post errors` : ''}` +
    `${p.disconnects ? `, ${p.disconnects} disconnects (${p.disconnectReasons.join(', ')})` : ''}`
  );
}

export async function runSystem(pair: ServerPair, plan: SystemPlan, ctx: SystemRunContext): Promise<SystemResult> {
  const result: SystemResult = { key: plan.key, label: pair.label, memory: null, phases: [], problems: [], failure: null };
  const log = (line: string) => ctx.progress(`  [${pair.label}] ${line}`);
  let connected = false;
  try {
    const before = await settledRss(pair.pids, SETTLE);
    const heapBefore = await pair.heapBytes();
    const redisRssBefore = await rssBytes(ctx.redisPid);
    const outcome = await ctx.pool.connect(plan.targets, CONNECT_CONCURRENCY, CONNECT_TIMEOUT_MS);
    connected = true;
    if (outcome.failed > 0) throw new Error(`${outcome.failed} of ${plan.targets.length} sockets failed to connect: ${outcome.errors.join('; ')}`);
    log(`${outcome.connected} sockets connected in ${(outcome.ms / 1000).toFixed(1)} s${outcome.retried ? ` (${outcome.retried} handshakes refused with "retry" and tried again)` : ''}`);
    const after = await settledRss(pair.pids, SETTLE);
    const heapAfter = await pair.heapBytes();
    const memory: MemoryResult = {
      sockets: outcome.connected,
      roomsPerSocket: plan.roomsPerSocket,
      rssBeforeBytes: before.bytes,
      rssAfterBytes: after.bytes,
      perSocketBytes: (after.bytes - before.bytes) / outcome.connected,
      settleSeconds: [before.seconds, after.seconds],
      settled: before.settled && after.settled,
      heapPerSocketBytes: (heapAfter - heapBefore) / outcome.connected,
      redisPerSocketBytes: ((await rssBytes(ctx.redisPid)) - redisRssBefore) / outcome.connected,
      rssAfterLoadBytes: null,
      connectMs: outcome.ms,
    };
    result.memory = memory;
    log(
      `RSS ${(before.bytes / 1e6).toFixed(1)} → ${(after.bytes / 1e6).toFixed(1)} MB (settled after ${before.seconds.toFixed(0)} s and ${after.seconds.toFixed(0)} s` +
        `${memory.settled ? '' : ', STILL MOVING'}): ${(memory.perSocketBytes / 1000).toFixed(1)} KB per socket (V8 heap + external ${(memory.heapPerSocketBytes / 1000).toFixed(1)} KB); Redis +${(memory.redisPerSocketBytes / 1000).toFixed(2)} KB per socket`,
    );

    const phaseCtx: PhaseContext = {
      pool: ctx.pool,
      post: pair.post,
      pids: { servers: pair.pids, redis: ctx.redisPid, clients: ctx.pool.pids(), database: plan.databasePids },
      drainTimeoutMs: ctx.drainTimeoutMs,
      nextSeq: ctx.nextSeq,
      pushBatches: pair.pushBatches,
    };
    const run = async (phase: Promise<PhaseResult>) => {
      const p = await phase;
      result.phases.push(p);
      log(describe(p));
    };
    if (plan.fixed) {
      if (plan.warmupSeconds > 0) await run(fixedRatePhase(phaseCtx, 'warmup', plan.fixed.rate, plan.warmupSeconds));
      await run(fixedRatePhase(phaseCtx, 'fixed', plan.fixed.rate, plan.fixed.seconds));
    }
    if (plan.saturation) await run(saturationPhase(phaseCtx, plan.saturation.window, plan.saturation.seconds));
    if (plan.burst) await run(burstPhase(phaseCtx, plan.burst.tweets, plan.burst.concurrency));
    if (result.phases.length > 0) memory.rssAfterLoadBytes = await totalRssBytes(pair.pids);
  } catch (err) {
    result.failure = (err as Error).message;
    log(`FAILED: ${result.failure}`);
  } finally {
    if (connected) await ctx.pool.close().catch((err: unknown) => void (result.failure ??= `closing the client sockets: ${(err as Error).message}`));
    const stopFailure = await pair.stop();
    result.failure ??= stopFailure;
    result.problems = pair.problems();
  }
  return result;
}
