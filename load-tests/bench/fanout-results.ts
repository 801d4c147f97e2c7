import type { PhaseName, PhaseResult } from './fanout-phases.ts';
import { format, type Table } from './report.ts';

/** Result types of the fan-out benchmark and the tables and target checks built from them; pure functions. */

export type SystemKey = 'flock' | 'baseline' | 'flock-plain';

export interface MemoryResult {
  sockets: number;
  /** Rooms each socket is in, as the server joins them. */
  roomsPerSocket: number;
  /** Both nodes, settled (see settledRss): before the sockets connected and after they all had. */
  rssBeforeBytes: number;
  rssAfterBytes: number;
  /** (after − before) / sockets */
  perSocketBytes: number;
  /** How long each reading waited for RSS to stop moving. */
  settleSeconds: [number, number];
  /** False when a reading was still moving at its deadline. */
  settled: boolean;
  /** Growth of V8 heap used + external memory per socket, read at the same moments: the JavaScript share, without allocator slack or native memory. */
  heapPerSocketBytes: number;
  /** Growth of redis-server's RSS per socket (the sharded adapter's per-room channels live there). */
  redisPerSocketBytes: number;
  /** Both nodes after the load phases, sockets still connected (null when no phase ran). */
  rssAfterLoadBytes: number | null;
  connectMs: number;
}

export interface SystemResult {
  key: SystemKey;
  label: string;
  memory: MemoryResult | null;
  phases: PhaseResult[];
  problems: string[];
  failure: string | null;
}

export interface TargetCheck {
  metric: string;
  flock: string;
  baseline: string;
  ratio: string;
  target: string;
  /** null when it could not be measured. */
  met: boolean | null;
}

const KB = 1000;
const MB = 1e6;
const phaseOf = (s: SystemResult | undefined, name: PhaseName) => s?.phases.find((p) => p.name === name);
const fixed1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '—');
const fixed2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '—');
const ms = (n: number) => (Number.isFinite(n) ? format.ms(n) : '—');
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? null : a / b;

const measured = (systems: readonly SystemResult[]) => systems.flatMap((s) => s.phases.filter((p) => p.name !== 'warmup').map((p) => ({ s, p })));

/** Deliveries, latency (tweet.createdAt → receipt) and losses per system and phase. */
export function deliveryTable(systems: readonly SystemResult[]): Table {
  return {
    headers: ['system', 'phase', 'sockets', 'tweets', 'deliveries', 'deliv/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'lost', 'POST p50/p99 ms'],
    rows: measured(systems).map(({ s, p }) => [
      s.label,
      p.name,
      format.count(p.sockets),
      String(p.tweets),
      format.count(p.delivered),
      format.count(p.deliveriesPerSecond),
      ms(p.latencyMs.p50),
      ms(p.latencyMs.p95),
      ms(p.latencyMs.p99),
      ms(p.latencyMs.max),
      String(p.lost),
      `${ms(p.postMs.p50)}/${ms(p.postMs.p99)}`,
    ]),
    align: ['left', 'left', ...Array<'right'>(10).fill('right')],
  };
}

/** CPU-seconds per group over each phase (first post until every delivery arrived). */
export function cpuTable(systems: readonly SystemResult[]): Table {
  return {
    headers: ['system', 'phase', 'seconds', 'server CPU-s', 'server CPU-s/M', 'postgres CPU-s', 'redis CPU-s', 'server+pg+redis CPU-s/M', 'client CPU-s', 'client µs/deliv', 'pushes/batch', 'window ms', 'created→emit ms', 'other % core'],
    rows: measured(systems).map(({ s, p }) => [
      s.label,
      p.name,
      fixed1(p.cpu.wallSeconds),
      fixed2(p.cpu.servers),
      fixed2(p.serverCpuPerMillion),
      fixed2(p.cpu.database),
      fixed2(p.cpu.redis),
      fixed2(((p.cpu.servers + p.cpu.database + p.cpu.redis) / p.delivered) * 1e6),
      fixed2(p.cpu.clients),
      fixed1((p.cpu.clients / p.delivered) * 1e6),
      p.pushesPerBatch === null ? '—' : fixed1(p.pushesPerBatch),
      p.meanWindowMs === null ? '—' : p.meanWindowMs.toFixed(0),
      p.meanEmitMs === null ? '—' : p.meanEmitMs.toFixed(0),
      p.cpu.other === null ? '—' : format.percent((p.cpu.other / p.cpu.wallSeconds) * 100),
    ]),
    align: ['left', 'left', ...Array<'right'>(12).fill('right')],
  };
}

export function memoryTable(systems: readonly SystemResult[]): Table {
  const rows = systems
    .filter((s) => s.memory !== null)
    .map((s) => {
      const m = s.memory!;
      return [
        s.label,
        format.count(m.sockets),
        String(m.roomsPerSocket),
        fixed1(m.rssBeforeBytes / MB),
        fixed1(m.rssAfterBytes / MB),
        `${fixed1(m.perSocketBytes / KB)}${m.settled ? '' : ' (unsettled)'}`,
        fixed1(m.heapPerSocketBytes / KB),
        fixed2(m.redisPerSocketBytes / KB),
        m.rssAfterLoadBytes === null ? '—' : fixed1(m.rssAfterLoadBytes / MB),
        fixed1(m.connectMs / 1000),
      ];
    });
  return {
    headers: ['system', 'sockets', 'rooms/socket', 'RSS before MB', 'RSS connected MB', 'RSS KB/socket', 'heap KB/socket', 'Redis KB/socket', 'RSS after load MB', 'connect s'],
    rows,
    align: ['left', ...Array<'right'>(9).fill('right')],
  };
}

/** The targets, checked against this run's figures. */
export function targetChecks(systems: readonly SystemResult[], follows: number): TargetCheck[] {
  const flock = systems.find((s) => s.key === 'flock');
  const base = systems.find((s) => s.key === 'baseline');
  const plain = systems.find((s) => s.key === 'flock-plain');
  const checks: TargetCheck[] = [];
  const PHASE_LABEL: Record<PhaseName, string> = {
    warmup: 'warm-up',
    fixed: 'fixed rate',
    saturation: 'saturation (closed loop)',
    burst: 'burst (servers saturated)',
  };
  /** A CPU ratio check; without a limit it is shown for comparison only. */
  const cpu = (name: PhaseName, limit: number | null) => {
    const f = phaseOf(flock, name)?.serverCpuPerMillion;
    const b = phaseOf(base, name)?.serverCpuPerMillion;
    const r = ratio(f, b);
    checks.push({
      metric: `server CPU-s per million deliveries, ${PHASE_LABEL[name]}`,
      flock: f === undefined ? '—' : fixed2(f),
      baseline: b === undefined ? '—' : fixed2(b),
      ratio: format.ratio(r),
      target: limit === null ? '(for comparison)' : `≤ ${limit}× baseline`,
      met: r === null || limit === null ? null : r <= limit,
    });
  };
  cpu('fixed', 0.7);
  cpu('saturation', 0.2);
  if (phaseOf(flock, 'burst') || phaseOf(base, 'burst')) cpu('burst', null);
  const fp99 = phaseOf(flock, 'fixed')?.latencyMs.p99;
  const bp99 = phaseOf(base, 'fixed')?.latencyMs.p99;
  checks.push({
    metric: 'p99 delivery latency, fixed rate (ms)',
    flock: fp99 === undefined ? '—' : ms(fp99),
    baseline: bp99 === undefined ? '—' : ms(bp99),
    ratio: format.ratio(ratio(fp99, bp99)),
    target: '≤ 150 ms',
    met: fp99 === undefined || !Number.isFinite(fp99) ? null : fp99 <= 150,
  });
  const fr = flock?.memory?.perSocketBytes;
  const br = base?.memory?.perSocketBytes;
  checks.push({
    metric: `RSS per socket following ${follows} accounts + the author (hybrid), KB`,
    flock: fr === undefined ? '—' : fixed1(fr / KB),
    baseline: br === undefined ? '—' : fixed1(br / KB),
    ratio: format.ratio(ratio(fr, br)),
    target: '≤ 24 KB',
    met: fr === undefined || !Number.isFinite(fr) ? null : fr <= 24 * KB,
  });
  const fh = flock?.memory?.heapPerSocketBytes;
  const bh = base?.memory?.heapPerSocketBytes;
  checks.push({
    metric: 'the same, V8 heap used + external only, KB',
    flock: fh === undefined ? '—' : fixed1(fh / KB),
    baseline: bh === undefined ? '—' : fixed1(bh / KB),
    ratio: format.ratio(ratio(fh, bh)),
    target: '(for comparison)',
    met: null,
  });
  const pr = plain?.memory?.perSocketBytes;
  if (pr !== undefined) {
    checks.push({
      metric: 'RSS per socket, plain author rooms (LIVE_ROOM_THRESHOLD=1), KB',
      flock: fixed1(pr / KB),
      baseline: br === undefined ? '—' : fixed1(br / KB),
      ratio: format.ratio(ratio(pr, br)),
      target: '(for comparison)',
      met: null,
    });
  }
  const lost = (s: SystemResult | undefined) => s?.phases.reduce((n, p) => n + p.lost, 0);
  const fl = lost(flock);
  checks.push({
    metric: 'lost deliveries, all phases',
    flock: fl === undefined ? '—' : String(fl),
    baseline: lost(base) === undefined ? '—' : String(lost(base)),
    ratio: '',
    target: '0',
    met: fl === undefined || !flock?.phases.length ? null : fl === 0,
  });
  return checks;
}

export function targetsTable(checks: readonly TargetCheck[]): Table {
  return {
    headers: ['metric', 'Flock', 'baseline', 'Flock ÷ baseline', 'target', 'met'],
    rows: checks.map((c) => [c.metric, c.flock, c.baseline, c.ratio, c.target, c.met === null ? (c.target.startsWith('(') ? '' : 'not measured') : c.met ? 'yes' : 'NO']),
    align: ['left', 'right', 'right', 'right', 'left', 'left'],
  };
}
