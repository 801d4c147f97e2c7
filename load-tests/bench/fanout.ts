import type { Tweet } from '@flock/client/protocol';
import { loadConfig } from '../../server/src/config.ts';
import { FlockApi, type Session } from './api.ts';
import { startCpuMeter } from './cpu.ts';
import { ClientPool } from './fanout-clients.ts';
import { postgresBackends } from './fanout-meter.ts';
import { readFanoutOptions } from './fanout-options.ts';
import { printFanoutReport, writeFanoutReport, type FanoutReport } from './fanout-output.ts';
import type { SocketTarget } from './fanout-protocol.ts';
import { targetChecks, type SystemResult } from './fanout-results.ts';
import { seedFanout, type FanoutSeed } from './fanout-seed.ts';
import { runSystem, type SystemRunContext } from './fanout-system.ts';
import { startBaselinePair, startFlockPair } from './fanout-systems.ts';
import type { BenchOptions } from './options.ts';
import { startRedis } from './redis-process.ts';
import { format } from './report.ts';
import { createStorage, postgresServerVersion } from './storage.ts';
import { machine } from './machine.ts';

/**
 * `npm run bench -- fanout`: live tweet delivery to N sockets over two
 * nodes sharing one Redis, Flock against the baseline (plain Socket.IO on
 * node:http with the classic Redis adapter), with the same client workers
 * and the same load. Order: Flock with its default hybrid rooms (memory,
 * fixed rate, saturation), the baseline (the same), Flock with plain author
 * rooms (memory and fixed rate). See docs/benchmarks.md.
 */

const progress = (line: string) => process.stderr.write(`${line}\n`);


/** CPU used by other processes over one second while nothing of the benchmark runs, in percent of one core. */
async function foreignLoad(): Promise<number | null> {
  const stop = await startCpuMeter(null);
  await new Promise((r) => setTimeout(r, 1000));
  return (await stop()).other;
}

const targetsFor = (seed: FanoutSeed, count: number, urls: readonly string[]): SocketTarget[] =>
  seed.users.slice(0, count).map((u, i) => ({ url: urls[i % urls.length]!, token: u.accessToken }));

export async function runFanoutBenchmark(options: BenchOptions): Promise<number> {
  // A BenchOptionsError leaves through run.ts, which prints it with this scenario's settings.
  const fo = readFanoutOptions(process.env);
  const startedAt = new Date().toISOString();
  const defaultThreshold = loadConfig({}).LIVE_ROOM_THRESHOLD;
  // With fewer sockets than the default threshold the author would not be "large": lower it to N, so small runs exercise the same author-room path.
  const threshold = Math.min(defaultThreshold, fo.sockets);
  const host = { ...machine(), postgres: await postgresServerVersion(options.postgresAdminUrl), redis: 'unknown', busyBeforeStart: await foreignLoad() };
  progress(
    `fanout benchmark: ${fo.sockets} sockets following the author + ${fo.follows} accounts each, ${fo.clientWorkers} client workers (${fo.client}); ` +
      `fixed ${fo.rate} tweets/s × ${fo.fixedSeconds} s, saturation ${fo.saturationSeconds} s (window ${fo.saturationWindow}); ` +
      `LIVE_ROOM_THRESHOLD ${threshold}; ${host.cpus} × ${host.cpuModel}; other processes busy ${format.percent(host.busyBeforeStart)} of a core before start`,
  );
  if (fo.follows >= threshold) progress(`  ! BENCH_FOLLOWS ${fo.follows} ≥ LIVE_ROOM_THRESHOLD ${threshold}: the followed accounts count as large, so "hybrid" is plain author rooms`);

  const systems: SystemResult[] = [];
  let seed: FanoutSeed | null = null;
  let template: Tweet | null = null;
  let harnessFailure: string | null = null;
  const report = (): FanoutReport => ({
    scenario: 'fanout',
    startedAt,
    finishedAt: new Date().toISOString(),
    host,
    options: { ...fo, warmupSeconds: options.warmupSeconds, liveRoomThreshold: threshold },
    seed: seed && { users: seed.users.length, followRows: seed.followRows, sqlMs: seed.sqlMs, loginMs: seed.loginMs },
    payloadBytes: template ? Buffer.byteLength(JSON.stringify({ id: template.id, tweet: template })) : null,
    systems,
    harnessFailure,
    targets: targetChecks(systems, fo.follows),
  });

  const redis = await startRedis();
  host.redis = redis.version;
  const storage = await createStorage('postgres', options).catch(async (err: unknown) => {
    await redis.stop();
    throw err;
  });
  const pool = ClientPool.start(fo.clientWorkers, fo.client);
  const databaseUrl = storage.env.DATABASE_URL!;
  const backends = await postgresBackends(options.postgresAdminUrl, new URL(databaseUrl).pathname.slice(1));
  try {
    let author: Session | null = null;
    const flockOptions = (liveRoomThreshold: number) => ({
      storageEnv: storage.env,
      redisUrl: redis.url,
      liveRoomThreshold,
      author: () => author!,
      onTweet: (t: Tweet) => void (template ??= t),
    });

    // Seeding runs on its own pair of gateways, so the measured ones start fresh (10,000 logins leave garbage that would blur RSS).
    progress(`▶ seeding ${fo.sockets} users and ${fo.sockets * (fo.follows + 1)} follows in ${storage.location}`);
    const seeder = await startFlockPair('seeding', flockOptions(threshold));
    try {
      seed = await seedFanout(seeder.urls.map((u) => new FlockApi(u)), databaseUrl, fo.sockets, fo.follows);
      author = seed.author;
      await storage.analyze();
      await seeder.post(0); // a real tweet: the baseline's payload template
    } finally {
      await seeder.stop();
    }
    progress(`  SQL ${(seed.sqlMs / 1000).toFixed(1)} s; ${seed.users.length} logins over HTTP in ${(seed.loginMs / 1000).toFixed(1)} s (${Math.round(seed.users.length / (seed.loginMs / 1000))}/s)`);

    const ctx: SystemRunContext = { pool, redisPid: redis.pid, drainTimeoutMs: fo.drainTimeoutSeconds * 1000, nextSeq: { value: 1 }, progress };
    const fixed = { rate: fo.rate, seconds: fo.fixedSeconds };
    const saturation = fo.saturationSeconds > 0 ? { window: fo.saturationWindow, seconds: fo.saturationSeconds } : null;
    const burst = fo.burstTweets > 0 ? { tweets: fo.burstTweets, concurrency: fo.burstConcurrency } : null;
    // Rooms a Flock socket is in: user:, author: of each large account it follows, and its own author: when it is large itself.
    const flockRooms = (largeFollowed: number, threshold: number) => 1 + largeFollowed + (fo.follows >= threshold ? 1 : 0);

    progress(`▶ Flock, hybrid rooms (LIVE_ROOM_THRESHOLD=${threshold})`);
    const hybrid = await startFlockPair('Flock hybrid', flockOptions(threshold));
    systems.push(
      await runSystem(
        hybrid,
        {
          key: 'flock',
          roomsPerSocket: flockRooms(1 + (fo.follows >= threshold ? fo.follows : 0), threshold),
          targets: targetsFor(seed, fo.sockets, hybrid.urls),
          warmupSeconds: options.warmupSeconds,
          fixed,
          saturation,
          burst,
          databasePids: backends.pids,
        },
        ctx,
      ),
    );

    progress('▶ baseline: Socket.IO on node:http, classic Redis adapter, one room');
    if (!template) throw new Error('no Flock tweet to use as the baseline payload');
    const baseline = await startBaselinePair('baseline', redis.url, template);
    systems.push(
      await runSystem(baseline, { key: 'baseline', roomsPerSocket: 1, targets: targetsFor(seed, fo.sockets, baseline.urls), warmupSeconds: options.warmupSeconds, fixed, saturation, burst }, ctx),
    );

    if (fo.plainSockets > 0) {
      progress(`▶ Flock, plain author rooms (LIVE_ROOM_THRESHOLD=1), ${fo.plainSockets} sockets`);
      const plain = await startFlockPair('Flock plain rooms', flockOptions(1));
      systems.push(
        await runSystem(
          plain,
          {
            key: 'flock-plain',
            roomsPerSocket: flockRooms(1 + fo.follows, 1),
            targets: targetsFor(seed, fo.plainSockets, plain.urls),
            warmupSeconds: options.warmupSeconds,
            fixed,
            saturation: null,
            databasePids: backends.pids,
          },
          ctx,
        ),
      );
    }
  } catch (err) {
    harnessFailure = (err as Error).message;
    progress(`  ✗ ${(err as Error).message}`);
  } finally {
    await backends.close();
    await pool.stop();
    await storage.dispose();
    await redis.stop();
  }

  const final = report();
  const file = await writeFanoutReport(final);
  return printFanoutReport(final, file);
}
