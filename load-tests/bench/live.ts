import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlockApi, type Session } from './api.ts';
import { registerCleanup } from './cleanup.ts';
import { freePort, startGatewayProcess, type GatewayProcess } from './gateway-process.ts';
import { HlsJsPlayer, type PlayerResult } from './live-browser.ts';
import { behindSchedule, fetchableLatencies, realtimeRate, segmentLatencies, summarize, type Summary } from './live-clock.ts';
import { nextRampSize, readLiveOptions } from './live-options.ts';
import { ClockDecoder, descendants, encodeClip, liveEncoderArgs, pusherArgs, startCpuWindow, startFfmpeg, type CpuWindow, type FfmpegChild, type ProcInfo } from './live-processes.ts';
import { ClassicViewer, LlViewer } from './live-viewer.ts';
import { machine } from './machine.ts';
import type { BenchOptions } from './options.ts';
import { banner, format, markdownTable, textTable, type Table } from './report.ts';
import { createStorage, type BenchStorage } from './storage.ts';

/**
 * `npm run bench -- live`: live video (docs/media.md) end to end on this machine.
 *
 * 1. latency (passthrough gateway): one test encoder stamps every frame with its capture time
 *    (live-clock.ts) and publishes over RTMP; a harness LL-HLS viewer (blocking reloads) gives
 *    capture → part fetchable for every frame, a classic viewer capture → segment discovered,
 *    and hls.js in Chromium capture → frame shown, with and without lowLatencyMode. Then a CPU
 *    window: gateway and its ffmpeg for one passthrough stream.
 * 2. ladder: a second gateway with HLS_LADDER (3 transcoded rungs besides the source): its CPU
 *    for one stream and the source rendition's capture → fetchable.
 * 3. ramp (passthrough gateway): one live-encoded probe stream plus copy pushers of a
 *    pre-encoded clip, doubling the stream count, then bisecting, until a step fails: a stream's
 *    parts stop arriving in real time, or the probe's capture → fetchable p50 passes the bound.
 */

const progress = (line: string) => process.stderr.write(`${line}\n`);
/** The slowest of some viewers' real-time rates; null when one of them could not tell. */
const slowest = (rates: (number | null)[]): number | null => (rates.some((r) => r === null) ? null : Math.min(...(rates as number[])));
const RESULTS_DIR = path.resolve(import.meta.dirname, '..', '..', 'bench-results');
/** HLS_PART_MS / HLS_SEGMENT_MS: the gateway's defaults unless set in the bench's environment (to compare settings). */
const HLS_PART_MS = process.env.HLS_PART_MS || '333';
const HLS_SEGMENT_MS = process.env.HLS_SEGMENT_MS || '1000';
const PASSTHROUGH_ENV = { LOG_LEVEL: 'warn', MEDIA_SERVICE: 'inprocess', HLS_PART_MS, HLS_SEGMENT_MS } as const;

interface Stream {
  id: string;
  publishUrl: string;
  masterUrl: string;
  renditionUrl: (name: string) => string;
}

async function createStream(api: FlockApi, session: Session, title: string): Promise<Stream> {
  const s = (await api.request('POST', '/v1/streams', { token: session.accessToken, body: { title }, expect: 201 })) as {
    id: string;
    streamKey: string;
    ingest: { rtmp: string };
    playback: { hls: string };
  };
  return {
    id: s.id,
    publishUrl: `${s.ingest.rtmp}/${s.streamKey}`,
    masterUrl: s.playback.hls,
    renditionUrl: (name) => s.playback.hls.replace(/master\.m3u8$/, `${name}/index.m3u8`),
  };
}

/** Waits until the stream's playlist (master, or one rendition's) answers 200 with a complete segment. */
async function waitForPlaylist(url: string, broadcaster: FfmpegChild, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!broadcaster.running()) throw new Error(`the broadcaster exited: ${broadcaster.stderr().slice(-500)}`);
    const res = await fetch(url).catch(() => null);
    if (res?.status === 200 && /#EXTINF|#EXT-X-STREAM-INF/.test(await res.text())) return;
    if (Date.now() > deadline) throw new Error(`${url} did not appear within ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

/** Waits until the gateway has accepted the broadcaster's publish (the stream turned live). */
async function waitForLive(api: FlockApi, id: string, broadcaster: FfmpegChild, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!broadcaster.running()) throw new Error(`the broadcaster exited: ${broadcaster.stderr().slice(-500)}`);
    const s = (await api.request('GET', `/v1/streams/${id}`, { expect: 200 })) as { status: string };
    if (s.status === 'live') return;
    if (Date.now() > deadline) throw new Error(`stream ${id} not live within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

interface LatencyRow {
  name: string;
  summary: Summary;
  note: string;
}

const pct = (n: number | undefined | null) => format.percent(n ?? null);
const secs = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : '—');

interface CpuRow {
  name: string;
  window: CpuWindow;
  streams: number;
  rate: number | null;
}

interface RampStep {
  streams: number;
  ok: boolean;
  reasons: string[];
  window: CpuWindow | null;
  probe: Summary;
  minRate: number | null;
  /** Media seconds per wall second of each stream in the window: the probe first, then the pushers (oldest first). */
  rates: (number | null)[];
  /** Each pusher's median distance behind its real-time schedule in the window, ms (oldest first). */
  behind: number[];
  restarts: number;
}

async function ffmpegRestarts(gw: GatewayProcess): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  return [...text.matchAll(/^flock_ffmpeg_restarts_total(?:\{[^}]*\})? (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
}

export async function runLiveBenchmark(options: BenchOptions): Promise<number> {
  // A BenchOptionsError leaves through run.ts, which prints it with this scenario's settings.
  const lo = readLiveOptions(process.env);
  // Every child registers an exit handler (no process may outlive the harness): many with a big ramp.
  process.setMaxListeners(Math.max(process.getMaxListeners(), 4 * lo.maxStreams + 50));
  const began = performance.now();
  const startedAt = new Date().toISOString();
  const host = machine();
  const enc = lo.encoder;
  // The encoders' clock counts milliseconds from here (whole ms, so browser and harness agree).
  const referenceMs = Date.now();
  progress(
    `live benchmark: phases ${lo.phases.join(', ')}; encoder ${enc.width}x${enc.height}@${enc.fps} x264 ${enc.preset} zerolatency ${enc.bitrate / 1000} kbit/s, ` +
      `keyframe every ${enc.keyframeSeconds} s; ${host.cpus} × ${host.cpuModel}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  );

  const tmp = await mkdtemp(path.join(os.tmpdir(), 'flock-live-bench-'));
  const unregisterTmp = registerCleanup(() => rm(tmp, { recursive: true, force: true }));
  const storages: BenchStorage[] = [];
  const gateways: GatewayProcess[] = [];
  const children: FfmpegChild[] = [];
  const viewers: (LlViewer | ClassicViewer)[] = [];
  const problems: string[] = [];
  /** Measurement windows (ms since the epoch): gateway warnings inside them make the run not clean; outside (start-up, streams ending) they are only reported. */
  const windows: [number, number][] = [];
  const latencyRows: LatencyRow[] = [];
  const cpuRows: CpuRow[] = [];
  const ramp: RampStep[] = [];
  const players: PlayerResult[] = [];
  let player: HlsJsPlayer | null = null;

  const startGateway = async (env: Record<string, string>) => {
    // PostgreSQL rather than PGlite: PGlite's start (initdb in WebAssembly) takes minutes on a busy machine.
    const storage = await createStorage('postgres', options);
    storages.push(storage);
    const dataDir = await mkdtemp(path.join(tmp, 'data-')); // HLS files go to DATA_DIR/hls
    const gw = await startGatewayProcess({
      env: { ...storage.env, ...PASSTHROUGH_ENV, DATA_DIR: dataDir, RTMP_PORT: String(await freePort()), ...env },
      readyTimeoutMs: 180_000,
    });
    gateways.push(gw);
    return gw;
  };
  const spawnEncoder = (url: string) => {
    const c = startFfmpeg(liveEncoderArgs(enc, referenceMs * 1000, url));
    children.push(c);
    return c;
  };
  const llViewer = (url: string, decode: boolean) => {
    const v = new LlViewer(url, decode ? new ClockDecoder(referenceMs) : null);
    viewers.push(v);
    v.start();
    return v;
  };
  /** Groups for a CPU window: each gateway with its ffmpeg children, our encoders, pushers and decoders, the harness, and Chromium (the rest below the harness). */
  const classify =
    (gw: GatewayProcess, roles: { encoders: FfmpegChild[]; pushers: FfmpegChild[]; decoders: number[] }) =>
    (table: Map<number, ProcInfo>): Record<string, Iterable<number>> => {
      const node = [gw.pid];
      const ffmpeg = [...descendants(table, gw.pid)].filter((p) => p !== gw.pid);
      const known = new Set<number>([...node, ...ffmpeg, ...roles.encoders.map((c) => c.pid), ...roles.pushers.map((c) => c.pid), ...roles.decoders, process.pid]);
      const otherGateways = gateways.filter((g) => g !== gw).flatMap((g) => [...descendants(table, g.pid)]);
      for (const p of otherGateways) known.add(p);
      const browser = [...descendants(table, process.pid)].filter((p) => !known.has(p));
      return {
        gateway: node,
        ffmpeg,
        encoders: roles.encoders.map((c) => c.pid),
        pushers: roles.pushers.map((c) => c.pid),
        decoders: roles.decoders,
        harness: [process.pid],
        chromium: browser,
        idleGateways: otherGateways,
      };
    };

  try {
    const wants = (p: string) => lo.phases.includes(p as never);
    const clip = path.join(tmp, 'clip.flv');
    progress('starting gateways' + (wants('ramp') ? ' and encoding the pushers’ clip' : '') + '…');
    const [passthrough, ladderGw] = await Promise.all([
      wants('latency') || wants('ramp') ? startGateway({}) : Promise.resolve(null),
      wants('ladder') ? startGateway({ HLS_LADDER: lo.ladder }) : Promise.resolve(null),
      wants('ramp') ? encodeClip(enc, 10, clip) : Promise.resolve(),
    ]);

    // ---- 1. latency ------------------------------------------------------------------------
    if (passthrough && wants('latency')) {
      const api = new FlockApi(passthrough.url);
      const me = await api.register(`lv${Date.now().toString(36)}`, 'bench password');
      const stream = await createStream(api, me, 'latency');
      progress(`latency: encoder → ${passthrough.url} (stream ${stream.id})…`);
      const encoder = spawnEncoder(stream.publishUrl);
      await waitForPlaylist(stream.renditionUrl('source'), encoder);
      const ll = llViewer(stream.renditionUrl('source'), true);
      const classic = new ClassicViewer(stream.renditionUrl('source'));
      viewers.push(classic);
      classic.start();
      const from = Date.now() + 2000; // the viewers' first parts and segments are left out
      player = await HlsJsPlayer.launch(lo.chromium);
      for (const lowLatency of [true, false]) {
        progress(`latency: hls.js ${lowLatency ? 'lowLatencyMode' : 'classic (lowLatencyMode: false)'} in Chromium, ${lo.playerSeconds} s…`);
        const r = await player.measure(stream.masterUrl, { lowLatency, catchUpRate: lo.catchUpRate, referenceMs, warmupMs: lo.playerWarmupSeconds * 1000, measureMs: lo.playerSeconds * 1000 });
        players.push(r);
        const s = summarize(r.latencies);
        progress(`  ${s.n} frames: p50 ${secs(s.p50)}, p95 ${secs(s.p95)}; hls.js says ${secs(summarize(r.hlsLatency).p50 * 1000)}; first frame after ${r.startupSeconds.toFixed(1)} s; stalls ${r.warmupStalls} before, ${r.stalls} while measuring; ${r.unreadable} unreadable`);
        for (const e of r.errors) problems.push(`hls.js (${lowLatency ? 'LL' : 'classic'}): ${e}`);
      }
      await player.close();
      player = null;

      progress(`latency: CPU of one passthrough stream, ${lo.cpuSeconds} s…`);
      const stopCpu = await startCpuWindow();
      const w0 = Date.now();
      await sleep(lo.cpuSeconds * 1000);
      const window = await stopCpu(classify(passthrough, { encoders: [encoder], pushers: [], decoders: [] }));
      const to = Date.now();
      cpuRows.push({ name: 'passthrough (-c copy)', window, streams: 1, rate: realtimeRate(ll.arrivals.filter((a) => a.fetchableAt >= w0)) });
      await sleep(1500); // the decoder catches up with the last parts

      windows.push([from, to]);
      const fetchable = summarize(fetchableLatencies(ll.decoded, ll.captures, from, to));
      latencyRows.push({ name: 'LL-HLS part fetchable (blocking reload), passthrough', summary: fetchable, note: 'capture → playlist listing the part answered' });
      latencyRows.push({
        name: 'classic HLS segment discovered (reload every TARGETDURATION)',
        summary: summarize(segmentLatencies(classic.segmentsSeenAt, ll.decoded, ll.captures, from, to)),
        note: 'capture → plain playlist load that first lists the segment',
      });
      latencyRows.push({
        name: 'classic HLS segment complete (for reference)',
        summary: summarize(segmentLatencies(ll.segmentsSeenAt, ll.decoded, ll.captures, from, to)),
        note: 'capture → first playlist listing the whole segment',
      });
      const [llPlayer, classicPlayer] = players;
      if (llPlayer) latencyRows.push({ name: 'hls.js lowLatencyMode in Chromium, frame shown', summary: summarize(llPlayer.latencies), note: `glass to glass; stalls: ${llPlayer.warmupStalls} in warm-up, ${llPlayer.stalls} measuring` });
      if (classicPlayer) latencyRows.push({ name: 'hls.js classic (lowLatencyMode: false), frame shown', summary: summarize(classicPlayer.latencies), note: `glass to glass; stalls: ${classicPlayer.warmupStalls} in warm-up, ${classicPlayer.stalls} measuring` });
      for (const v of [ll, classic]) for (const e of v.errors) problems.push(`viewer: ${e}`);
      const unreadable = ll.captures.filter((c) => c === null).length;
      if (unreadable > ll.captures.length * 0.01) problems.push(`${unreadable} of ${ll.captures.length} decoded frames had an unreadable clock`);
      for (const p of players) if (p.unreadable > (p.latencies.length + p.unreadable) * 0.01) problems.push(`hls.js: ${p.unreadable} shown frames had an unreadable clock`);
      await ll.stop();
      await classic.stop();
      if (!encoder.running()) problems.push(`the latency encoder died: ${encoder.stderr().slice(-300)}`);
      await encoder.stop();
    }

    // ---- 2. ladder ---------------------------------------------------------------------------
    if (ladderGw) {
      const api = new FlockApi(ladderGw.url);
      const me = await api.register(`ld${Date.now().toString(36)}`, 'bench password');
      const stream = await createStream(api, me, 'ladder');
      progress(`ladder: encoder → ${ladderGw.url}, HLS_LADDER=${lo.ladder}…`);
      const encoder = spawnEncoder(stream.publishUrl);
      await waitForPlaylist(stream.masterUrl, encoder);
      const master = await (await fetch(stream.masterUrl)).text();
      const renditions = [...master.matchAll(/^([a-z0-9]+)\/index\.m3u8$/gm)].map((m) => m[1]!);
      const source = llViewer(stream.renditionUrl('source'), true);
      const others = renditions.filter((r) => r !== 'source').map((r) => llViewer(stream.renditionUrl(r), false));
      await sleep(3000);
      progress(`ladder: ${renditions.length} renditions (${renditions.join(', ')}); CPU window ${lo.cpuSeconds} s…`);
      const stopCpu = await startCpuWindow();
      const w0 = Date.now();
      await sleep(lo.cpuSeconds * 1000);
      const window = await stopCpu(classify(ladderGw, { encoders: [encoder], pushers: [], decoders: [] }));
      const to = Date.now();
      windows.push([w0, to]);
      const minRate = slowest([source, ...others].map((v) => realtimeRate(v.arrivals.filter((a) => a.fetchableAt >= w0))));
      cpuRows.push({ name: `ladder: source + ${renditions.length - 1} transcoded (${lo.ladder})`, window, streams: 1, rate: minRate });
      await sleep(1500);
      latencyRows.push({
        name: `LL-HLS part fetchable, source rendition with the ladder running`,
        summary: summarize(fetchableLatencies(source.decoded, source.captures, w0, to)),
        note: 'same as passthrough, while ffmpeg also transcodes',
      });
      for (const v of [source, ...others]) for (const e of v.errors) problems.push(`ladder viewer: ${e}`);
      for (const v of [source, ...others]) await v.stop();
      if (!encoder.running()) problems.push(`the ladder encoder died: ${encoder.stderr().slice(-300)}`);
      await encoder.stop();
      await ladderGw.stop();
    }

    // ---- 3. ramp -----------------------------------------------------------------------------
    if (passthrough && wants('ramp')) {
      const api = new FlockApi(passthrough.url);
      const me = await api.register(`rp${Date.now().toString(36)}`, 'bench password');
      const probeStream = await createStream(api, me, 'probe');
      progress('ramp: probe encoder (live, stamped) + copy pushers of the clip…');
      const probe = spawnEncoder(probeStream.publishUrl);
      await waitForPlaylist(probeStream.renditionUrl('source'), probe);
      const probeViewer = llViewer(probeStream.renditionUrl('source'), true);
      const pushers: { child: FfmpegChild; viewer: LlViewer }[] = [];
      for (let size = nextRampSize([], lo.maxStreams); size !== null; size = nextRampSize(ramp, lo.maxStreams)) {
        // Probe + (size − 1) pushers.
        while (pushers.length > size - 1) {
          const p = pushers.pop()!;
          await p.child.stop();
          await p.viewer.stop();
        }
        // New broadcasters connect one after another (each once its publish is accepted), as
        // broadcasters of separate people would. Several at the same moment tripped an RTMP
        // ingest bug more often (see docs/benchmarks.md#live); one at a time it still happens.
        const started: { child: FfmpegChild; stream: Stream }[] = [];
        let startFailure: Error | null = null;
        while (!startFailure && pushers.length + started.length < size - 1) {
          try {
            const stream = await createStream(api, me, `pusher ${pushers.length + started.length + 1}`);
            const child = startFfmpeg(pusherArgs(clip, stream.publishUrl));
            children.push(child);
            started.push({ child, stream });
            await waitForLive(api, stream.id, child);
          } catch (err) {
            startFailure = err as Error;
          }
        }
        const adding = await Promise.allSettled(
          started.map(async ({ child, stream }) => {
            await waitForPlaylist(stream.renditionUrl('source'), child);
            return { child, viewer: llViewer(stream.renditionUrl('source'), false) };
          }),
        );
        if (startFailure) adding.push({ status: 'rejected', reason: startFailure });
        for (const a of adding) if (a.status === 'fulfilled') pushers.push(a.value);
        progress(`ramp: ${size} stream${size > 1 ? 's' : ''}…`);
        const addingFailed = adding.find((a) => a.status === 'rejected');
        if (addingFailed) {
          ramp.push({ streams: size, ok: false, reasons: [`streams did not start: ${String(addingFailed.reason).slice(0, 200)}`], window: null, probe: summarize([]), minRate: null, rates: [], behind: [], restarts: 0 });
          break;
        }
        await sleep(3000);
        const restarts0 = await ffmpegRestarts(passthrough);
        const stopCpu = await startCpuWindow();
        const w0 = Date.now();
        await sleep(lo.stepSeconds * 1000);
        const pusherChildren = pushers.map((p) => p.child);
        const window = await stopCpu(classify(passthrough, { encoders: [probe], pushers: pusherChildren, decoders: [] }));
        const to = Date.now();
        windows.push([w0, to]);
        const restarts = (await ffmpegRestarts(passthrough)) - restarts0;
        await sleep(1500);
        const probeSummary = summarize(fetchableLatencies(probeViewer.decoded, probeViewer.captures, w0, to));
        const rates = [probeViewer, ...pushers.map((p) => p.viewer)].map((v) => realtimeRate(v.arrivals.filter((a) => a.fetchableAt >= w0 && a.fetchableAt <= to)));
        const minRate = slowest(rates);
        const behind = pushers.map((p) => {
          const lags = behindSchedule(p.viewer.arrivals);
          return summarize(lags.filter((_, i) => p.viewer.arrivals[i]!.fetchableAt >= w0 && p.viewer.arrivals[i]!.fetchableAt <= to)).p50;
        });
        const reasons: string[] = [];
        const late = behind.map((b, i) => (!(b <= lo.rampBehindMs) ? `pusher ${i + 1}` : null)).filter(Boolean);
        if (late.length > 0) reasons.push(`${late.length} pushers more than ${secs(lo.rampBehindMs)} behind real time (${late.slice(0, 3).join(', ')}${late.length > 3 ? ', …' : ''})`);
        if (!(probeSummary.p50 <= lo.rampP50Ms)) reasons.push(`probe p50 ${secs(probeSummary.p50)} > ${secs(lo.rampP50Ms)}`);
        if (restarts > 0) reasons.push(`${restarts} ffmpeg restarts`);
        const dead = [probe, ...pusherChildren].filter((c) => !c.running()).length;
        if (dead > 0) reasons.push(`${dead} broadcasters exited`);
        const step: RampStep = { streams: size, ok: reasons.length === 0, reasons, window, probe: probeSummary, minRate, rates, behind, restarts };
        ramp.push(step);
        progress(
          `  ${size} streams: gateway ${pct(window.groups.gateway)} + ffmpeg ${pct(window.groups.ffmpeg)} CPU, probe p50 ${secs(probeSummary.p50)}, pushers behind ≤ ${secs(Math.max(0, ...behind))}, slowest ${minRate?.toFixed(3) ?? '—'}×, ` +
            `load ${window.load1.toFixed(2)} → ${step.ok ? 'ok' : `FAIL (${reasons.join('; ')})`}`,
        );
      }
      for (const p of pushers) for (const e of p.viewer.errors) problems.push(`pusher viewer: ${e}`);
      for (const p of pushers) {
        await p.child.stop();
        await p.viewer.stop();
      }
      await probeViewer.stop();
      for (const e of probeViewer.errors) problems.push(`probe viewer: ${e}`);
      await probe.stop();
    }

    // ---- report ------------------------------------------------------------------------------
    const durationSeconds = (performance.now() - began) / 1000;
    const outsideWindows: string[] = [];
    for (const g of gateways) {
      for (const p of g.problems()) {
        let at: number | null = null;
        try {
          at = Date.parse((JSON.parse(p.text) as { time?: string }).time ?? '');
        } catch {
          // not a log line (a crash trace): always a problem
        }
        const inside = at === null || Number.isNaN(at) || windows.some(([a, b]) => at >= a && at <= b);
        (inside ? problems : outsideWindows).push(`gateway: ${p.text.slice(0, 300)}`);
      }
    }
    if (outsideWindows.length) progress(`${outsideWindows.length} gateway warning/error lines outside the measurement windows (start-up, streams ending; in the results file)`);
    const latencyTable: Table = {
      headers: ['latency (capture in the encoder →)', 'frames', 'p50', 'p95', 'p99', 'max', 'what'],
      align: ['left', 'right', 'right', 'right', 'right', 'right', 'left'],
      rows: latencyRows.map((r) => [r.name, format.count(r.summary.n), secs(r.summary.p50), secs(r.summary.p95), secs(r.summary.p99), secs(r.summary.max), r.note]),
    };
    const cpuTable: Table = {
      headers: ['one stream', 'gateway (node)', 'ffmpeg', 'per stream', 'encoder', 'harness+decoders', 'other', 'load avg', 'slowest rendition'],
      align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
      rows: cpuRows.map((r) => {
        const g = r.window.groups;
        return [
          r.name,
          pct(g.gateway),
          pct(g.ffmpeg),
          pct(((g.gateway ?? 0) + (g.ffmpeg ?? 0)) / r.streams),
          pct(g.encoders),
          pct((g.harness ?? 0) + (g.decoders ?? 0) + (g.chromium ?? 0)),
          pct(r.window.other),
          r.window.load1.toFixed(2),
          r.rate === null ? '—' : `${r.rate.toFixed(3)}×`,
        ];
      }),
    };
    const rampTable: Table = {
      headers: ['streams', 'gateway', 'ffmpeg', 'per stream', 'pushers', 'probe encoder', 'harness', 'other', 'load avg', 'probe p50', 'probe p95', 'pushers behind', 'slowest rate', 'result'],
      align: ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
      rows: ramp.map((s) => {
        const g = s.window?.groups ?? {};
        return [
          String(s.streams),
          pct(g.gateway),
          pct(g.ffmpeg),
          s.window ? pct(((g.gateway ?? 0) + (g.ffmpeg ?? 0)) / s.streams) : '—',
          pct(g.pushers),
          pct(g.encoders),
          s.window ? pct((g.harness ?? 0) + (g.decoders ?? 0)) : '—',
          pct(s.window?.other),
          s.window ? s.window.load1.toFixed(2) : '—',
          secs(s.probe.p50),
          secs(s.probe.p95),
          s.behind.length ? secs(Math.max(...s.behind)) : '—',
          s.minRate === null ? '—' : `${s.minRate.toFixed(3)}×`,
          s.ok ? 'ok' : `FAIL: ${s.reasons.join('; ')}`,
        ];
      }),
    };
    const sustained = ramp.filter((s) => s.ok).reduce((m, s) => Math.max(m, s.streams), 0);
    const firstFail = ramp.filter((s) => !s.ok).reduce((m, s) => Math.min(m, s.streams), Infinity);
    const find = (prefix: string) => latencyRows.find((r) => r.name.startsWith(prefix))?.summary;
    const llFetch = find('LL-HLS part fetchable (blocking reload)');
    const llPlay = find('hls.js lowLatencyMode');
    const classicPlay = find('hls.js classic');
    const targetRows: string[][] = [];
    const target = (name: string, s: Summary | undefined, boundMs: number) =>
      s && targetRows.push([name, secs(s.p50), s.n > 0 && s.p50 <= boundMs ? 'yes' : 'NO']);
    target('LL-HLS ingest-to-fetchable p50 ≤ 1 s (measured from capture: encoding included)', llFetch, 1000);
    target('glass-to-glass in hls.js (LL) p50 ≤ 3 s', llPlay, 3000);
    target('classic HLS (hls.js, lowLatencyMode: false) glass-to-glass p50 ≤ 6 s', classicPlay, 6000);
    if (ramp.length) {
      targetRows.push([
        `concurrent passthrough streams sustained (no target; criterion: probe p50 ≤ ${secs(lo.rampP50Ms)}, no pusher ${secs(lo.rampBehindMs)} behind)`,
        `${sustained}${Number.isFinite(firstFail) ? ` (failed at ${firstFail})` : ` (ceiling ${lo.maxStreams} reached)`}`,
        '—',
      ]);
    }
    const targets: Table = { headers: ['target', 'measured', 'met'], rows: targetRows };
    const heading =
      `${startedAt.slice(0, 10)} · ${durationSeconds.toFixed(0)} s · encoder ${enc.width}x${enc.height}@${enc.fps} x264 ${enc.preset} zerolatency ${enc.bitrate / 1000} kbit/s, keyframe ${enc.keyframeSeconds} s · ` +
      `HLS parts ${HLS_PART_MS} ms, segments ${Number(HLS_SEGMENT_MS) / 1000} s · ${host.cpus} cores (${host.cpuModel}) shared by encoders, gateway, ffmpeg, harness and Chromium · Node ${host.node} · load average at the end ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`;
    const sections: [string, Table][] = [
      ['Latency', latencyTable],
      ['CPU, percent of one core (200% = both cores)', cpuTable],
      ['Ramp: passthrough streams (1 live-encoded probe + copy pushers), one LL-HLS viewer each', rampTable],
      ['Targets', targets],
    ];
    const shown = sections.filter(([, t]) => t.rows.length > 0);
    console.log(`\nLive benchmark — ${heading}\n\n${shown.map(([title, t]) => `${title}\n\n${textTable(t)}`).join('\n\n')}`);
    console.log(`\nMarkdown (for docs/benchmarks.md):\n\n${heading}\n\n${shown.map(([title, t]) => `${title}:\n\n${markdownTable(t)}`).join('\n\n')}`);

    await mkdir(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, `live-${startedAt.replace(/[:.]/g, '-')}.json`);
    const results = {
      scenario: 'live',
      startedAt,
      durationSeconds,
      host,
      options: lo,
      latency: latencyRows,
      players: players.map((p) => ({ ...p, latencies: summarize(p.latencies), hlsLatency: summarize(p.hlsLatency) })),
      cpu: cpuRows,
      ramp,
      sustainedStreams: ramp.length ? sustained : null,
      targets: targetRows,
      problems,
      gatewayLinesOutsideWindows: outsideWindows,
      windows,
    };
    await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nFull results: ${path.relative(process.cwd(), file)}`);
    if (problems.length > 0) {
      console.log(`\n${banner(['THIS BENCHMARK RUN IS NOT CLEAN:', `${problems.length} problems (viewer errors, unreadable clocks, gateway warnings, dead encoders)`, ...problems.slice(0, 8).map((p) => p.slice(0, 200))])}`);
      return 1;
    }
    return 0;
  } finally {
    await player?.close().catch(() => {});
    for (const v of viewers) await v.stop().catch(() => {});
    for (const c of children) await c.stop().catch(() => {});
    for (const g of gateways) await g.stop();
    for (const s of storages) await s.dispose();
    await rm(tmp, { recursive: true, force: true });
    unregisterTmp();
  }
}
