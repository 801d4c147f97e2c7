import type { Tweet } from '@flock/client/protocol';
import { FlockApi, type Session } from './api.ts';
import { startBaselineProcess, type BaselineProcess } from './baseline-process.ts';
import type { Poster } from './fanout-phases.ts';
import { startGatewayProcess, type GatewayEnv, type GatewayProcess } from './gateway-process.ts';

/**
 * The two systems the fan-out benchmark compares, each as two server nodes
 * sharing one Redis, behind one interface: where sockets connect, how a
 * tweet is posted (always through the first node, so the second gets it
 * over the cluster bus), which pids to meter, how to stop.
 */

export interface PushBatchTotals {
  pushes: number;
  batches: number;
  windowSeconds: number;
  windows: number;
  /** Sum and count of flock_delivery_latency_seconds: tweet createdAt → its emit on the posting node. */
  emitSeconds: number;
  emits: number;
}

export interface ServerPair {
  readonly label: string;
  readonly pids: number[];
  readonly urls: string[];
  readonly post: Poster;
  /** V8 heap used + external memory, both nodes summed (Flock: /metrics; baseline: /memory). */
  heapBytes(): Promise<number>;
  /**
   * Live pushes emitted so far and in how many coalesced batches (Flock's flock_live_push_batch_size, both nodes), and the
   * windows that closed with pushes waiting (flock_live_push_window_seconds); null for the baseline.
   */
  pushBatches(): Promise<PushBatchTotals | null>;
  /** Log lines at warn level or above, or anything a baseline node printed. */
  problems(): string[];
  /** Stops both nodes; resolves to a failure description, or null when both exited cleanly. */
  stop(): Promise<string | null>;
}

/** A distinct text of exactly `length` ASCII characters. */
export function tweetText(seq: number, length = 200): string {
  let s = `#${seq} bench fanout`;
  while (s.length < length) s += ` ${(seq * 2654435761 + s.length).toString(36)}`;
  return `${s.slice(0, length - 1)}.`;
}

export interface FlockPairOptions {
  /** DATABASE_URL etc. of the shared scratch database. */
  storageEnv: GatewayEnv;
  redisUrl: string;
  liveRoomThreshold: number;
  /** The posting account (known once the graph is seeded). */
  author: () => Session;
  /** Called with every tweet the API returns (the baseline reuses one as its payload template). */
  onTweet?: (tweet: Tweet) => void;
}

/** Two Flock gateways on uWebSockets.js, one after the other (the first applies the migrations). */
export async function startFlockPair(label: string, o: FlockPairOptions): Promise<ServerPair> {
  const nodes: GatewayProcess[] = [];
  try {
    for (const nodeId of [1, 2]) {
      nodes.push(
        await startGatewayProcess({
          env: {
            ...o.storageEnv,
            REDIS_URL: o.redisUrl,
            NODE_ID: String(nodeId),
            HTTP_TRANSPORT: 'uws',
            LIVE_ROOM_THRESHOLD: String(o.liveRoomThreshold),
            // Not measured; two in-process media services would both want RTMP port 1935.
            MEDIA_SERVICE: 'off',
            // Nor is the demo web app (unbuilt in a bare checkout: a start-up warning that marks the run unclean).
            SERVE_WEB_APP: 'false',
          },
        }),
      );
    }
    for (const g of nodes) {
      const transport = await new FlockApi(g.url).transportInUse();
      if (transport !== 'uws') throw new Error(`gateway ${g.url} serves with ${transport ?? 'nothing'}, not uws`);
    }
  } catch (err) {
    await Promise.all(nodes.map((g) => g.stop()));
    throw err;
  }
  const api = new FlockApi(nodes[0]!.url);
  return {
    label,
    pids: nodes.map((g) => g.pid),
    urls: nodes.map((g) => g.url),
    post: async (seq) => {
      const tweet = await api.postTweet(o.author(), tweetText(seq));
      o.onTweet?.(tweet);
      return tweet.id;
    },
    heapBytes: async () => {
      let total = 0;
      for (const g of nodes) {
        const metric = await metricsOf(g.url);
        total += metric('nodejs_heap_size_used_bytes') + metric('nodejs_external_memory_bytes');
      }
      return total;
    },
    pushBatches: async () => {
      const sums = { pushes: 0, batches: 0, windowSeconds: 0, windows: 0, emitSeconds: 0, emits: 0 };
      for (const g of nodes) {
        const metric = await metricsOf(g.url);
        sums.pushes += metric('flock_live_push_batch_size_sum');
        sums.batches += metric('flock_live_push_batch_size_count');
        sums.windowSeconds += metric('flock_live_push_window_seconds_sum');
        sums.windows += metric('flock_live_push_window_seconds_count');
        sums.emitSeconds += metric('flock_delivery_latency_seconds_sum');
        sums.emits += metric('flock_delivery_latency_seconds_count');
      }
      return sums;
    },
    problems: () => nodes.flatMap((g) => g.problems().map((p) => `[${g.url}] ${p.text}`)),
    stop: async () => {
      const exits = await Promise.all(nodes.map((g) => g.stop()));
      const bad = exits.filter((e) => e.killed || (e.code !== 0 && e.signal !== 'SIGTERM'));
      return bad.length === 0 ? null : `gateway exit: ${bad.map((e) => (e.killed ? 'SIGKILLed after the grace period' : `code ${e.code}`)).join(', ')}`;
    },
  };
}

/** One reading of a gateway's /metrics: a function from an unlabelled metric's name to its value (NaN when absent). */
async function metricsOf(url: string): Promise<(name: string) => number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  return (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

/**
 * Two baseline nodes (baseline-server.ts). Their payload is a real Flock tweet with a fresh id and
 * createdAt, text replaced per post, so both systems send the same bytes to every socket.
 */
export async function startBaselinePair(label: string, redisUrl: string, template: Tweet): Promise<ServerPair> {
  const nodes: BaselineProcess[] = [];
  try {
    for (const nodeId of [1, 2]) nodes.push(await startBaselineProcess(redisUrl, nodeId));
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw err;
  }
  const first = nodes[0]!;
  return {
    label,
    pids: nodes.map((n) => n.pid),
    urls: nodes.map((n) => n.url),
    post: async (seq) => {
      const res = await fetch(`${first.url}/tweet`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...template, text: tweetText(seq) }),
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await res.json()) as { id?: unknown };
      if (res.status !== 201 || typeof body.id !== 'string') throw new Error(`baseline POST /tweet → ${res.status}`);
      return body.id;
    },
    heapBytes: async () => {
      let total = 0;
      for (const n of nodes) {
        const m = (await (await fetch(`${n.url}/memory`, { signal: AbortSignal.timeout(10_000) })).json()) as { heapUsed: number; external: number };
        total += m.heapUsed + m.external;
      }
      return total;
    },
    pushBatches: async () => null,
    problems: () => nodes.flatMap((n) => n.problems().map((p) => `[${n.url}] ${p}`)),
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      const codes = nodes.map((n) => n.exitCode());
      return codes.every((c) => c === 0 || c === null) ? null : `baseline exit codes ${codes.join(', ')}`;
    },
  };
}
