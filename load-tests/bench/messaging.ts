import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '@flock/client/protocol';
import { FlockApi } from './api.ts';
import { startGatewayProcess } from './gateway-process.ts';
import { runLoad } from './load.ts';
import { machine } from './machine.ts';
import { BenchOptionsError, numberReader, type BenchOptions } from './options.ts';
import { format, markdownTable, textTable } from './report.ts';
import { createStorage, postgresServerVersion } from './storage.ts';

/**
 * `npm run bench -- messaging`: the durable messaging of DESIGN §6 on one
 * gateway (uWS) on PostgreSQL. Measures (1) durable publish and send rates —
 * messages accepted per second, each call answered only after its commit —
 * with one message per call (the server's group commit batches concurrent
 * calls) and with batches of BENCH_MESSAGING_BATCH per call; (2) receive+ack
 * with 4 competing HTTP consumers draining the queue the send phase filled;
 * (3) publish-to-live-receipt latency for a socket subscriber while
 * BENCH_MESSAGING_RATE messages per second are published through HTTP, the
 * messages due every 10 ms in one call.
 */

const CONSUMERS = 4;

type Sock = Socket<ServerToClientEvents, ClientToServerEvents>;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function runMessagingBenchmark(options: BenchOptions): Promise<number> {
  const problems: string[] = [];
  const number = numberReader(process.env, problems);
  const batch = number('BENCH_MESSAGING_BATCH', 50, 1);
  const rate = number('BENCH_MESSAGING_RATE', 1000, 1);
  // run.ts prints it with this scenario's settings.
  if (problems.length > 0) throw new BenchOptionsError(problems);
  const storage = await createStorage('postgres', options);
  const gw = await startGatewayProcess({ env: { ...storage.env, HTTP_TRANSPORT: 'uws', SOCKET_EVENTS_PER_SECOND: '100000', MEDIA_SERVICE: 'off', SERVE_WEB_APP: 'false' } });
  const rows: string[][] = [];
  let failures = 0;
  try {
    const api = new FlockApi(gw.url);
    const me = await api.register(`mb${Date.now().toString(36)}`, 'bench password');
    const auth = { authorization: `Bearer ${me.accessToken}`, 'content-type': 'application/json' };
    await api.request('POST', '/v1/topics', { token: me.accessToken, body: { name: 'bench-topic' }, expect: 201 });
    await api.request('POST', '/v1/queues', { token: me.accessToken, body: { name: 'bench-queue' }, expect: 201 });
    const payload = { data: { kind: 'bench', text: 'x'.repeat(100) } };

    const rateRun = async (label: string, path: string, perCall: number) => {
      const body = JSON.stringify(perCall === 1 ? payload : { messages: Array.from({ length: perCall }, () => payload) });
      process.stderr.write(`messaging: ${label}…\n`);
      const load = (durationSeconds: number) =>
        runLoad({ url: gw.url, method: 'POST', headers: auth, nextRequest: () => ({ path, body }), expectStatus: 201, durationSeconds, connections: options.connections });
      if (options.warmupSeconds > 0) await load(options.warmupSeconds); // unmeasured: JIT, pool, plans
      const r = await load(options.durationSeconds);
      failures += r.errors;
      const accepted = (r.statuses['201'] ?? 0) * perCall;
      rows.push([label, format.count(accepted / r.durationSeconds), format.count(r.requestsPerSecond), format.ms(r.latencyMs.p50), format.ms(r.latencyMs.p99), String(r.errors)]);
      return accepted;
    };
    await rateRun('publish, 1 per call', '/v1/topics/bench-topic/messages', 1);
    await rateRun(`publish, ${batch} per call`, '/v1/topics/bench-topic/messages', batch);
    let queued = await rateRun('send, 1 per call', '/v1/queues/bench-queue/messages', 1);
    queued += await rateRun(`send, ${batch} per call`, '/v1/queues/bench-queue/messages', batch);

    // Receive + ack: 4 competing consumers drain what the send runs queued (or run out the clock).
    process.stderr.write(`messaging: receive+ack with ${CONSUMERS} consumers (${format.count(queued)} queued)…\n`);
    const deadline = Date.now() + options.durationSeconds * 1000;
    const started = performance.now();
    const lat: number[] = [];
    const counts = await Promise.all(
      Array.from({ length: CONSUMERS }, async () => {
        let n = 0;
        while (Date.now() < deadline) {
          const t0 = performance.now();
          const got = (await api.request('POST', '/v1/queues/bench-queue/receive', { token: me.accessToken, body: { max: 100, visibilitySeconds: 60 }, expect: 200 })) as {
            items: { id: string }[];
          };
          if (got.items.length === 0) break;
          const ack = (await api.request('POST', '/v1/queues/bench-queue/ack', { token: me.accessToken, body: { ids: got.items.map((m) => m.id) }, expect: 200 })) as {
            acked: string[];
          };
          lat.push(performance.now() - t0);
          n += ack.acked.length;
        }
        return n;
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const acked = counts.reduce((a, b) => a + b, 0);
    lat.sort((a, b) => a - b);
    rows.push([`receive+ack, ${CONSUMERS} consumers, 100 per receive`, format.count(acked / seconds), format.count((lat.length * 2) / seconds), format.ms(percentile(lat, 50)), format.ms(percentile(lat, 99)), '0']);

    // Publish → live receipt on a socket subscriber, at a fixed message rate.
    process.stderr.write(`messaging: latency at ${rate} msg/s…\n`);
    const sock: Sock = io(gw.url, { auth: { token: me.accessToken }, transports: ['websocket'], reconnection: false, forceNew: true });
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', () => resolve());
      sock.once('connect_error', reject);
    });
    const sentAt = new Map<number, number>();
    const delays: number[] = [];
    let received = 0;
    sock.on('topic:message', (e) => {
      const t = (e.message.data as { seq?: number } | null)?.seq;
      if (typeof t !== 'number') return;
      const s = sentAt.get(t);
      if (s !== undefined) delays.push(performance.now() - s);
      received++;
    });
    const sub = await sock.emitWithAck('topic:subscribe', { name: 'bench-topic' });
    if (!sub.ok) throw new Error(`subscribe failed: ${sub.error.message}`);
    // Every 10 ms tick publishes the messages due by then in one call (10 per call at 1,000/s):
    // the rate a publisher of that volume would use; latency counts from the call's start.
    const total = rate * options.durationSeconds;
    const tick = 10;
    const inflight: Promise<unknown>[] = [];
    let seq = 0;
    const t0 = performance.now();
    while (seq < total) {
      const due = Math.min(total, Math.ceil(((performance.now() - t0) / 1000) * rate));
      if (due > seq) {
        const now = performance.now();
        const messages: { data: { seq: number } }[] = [];
        while (seq < due) {
          sentAt.set(seq, now);
          messages.push({ data: { seq: seq++ } });
        }
        inflight.push(
          api.request('POST', '/v1/topics/bench-topic/messages', { token: me.accessToken, body: { messages }, expect: 201 }).catch(() => failures++),
        );
      }
      await new Promise((r) => setTimeout(r, tick));
    }
    await Promise.all(inflight);
    const until = Date.now() + 10_000;
    while (received < total && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    sock.close();
    delays.sort((a, b) => a - b);
    const lost = total - received;
    failures += lost;
    rows.push([
      `publish→live receipt at ${format.count(rate)}/s (${format.count(received)}/${format.count(total)} received)`,
      format.count(received / options.durationSeconds),
      '—',
      format.ms(percentile(delays, 50)),
      format.ms(percentile(delays, 99)),
      String(lost),
    ]);
  } finally {
    await gw.stop();
    await storage.dispose();
  }
  const table = {
    headers: ['run', 'messages/s', 'calls/s', 'p50 ms', 'p99 ms', 'errors'],
    rows,
    align: ['left', 'right', 'right', 'right', 'right', 'right'] as const,
  };
  const m = machine();
  process.stdout.write(
    `\nmessaging on PostgreSQL ${(await postgresServerVersion(options.postgresAdminUrl)) ?? '?'}, one gateway (uWS), ${options.connections} connections, ${options.durationSeconds} s per run\n` +
      `${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.node}\n\n${textTable(table)}\n\n${markdownTable(table)}\n`,
  );
  return failures > 0 ? 1 : 0;
}
