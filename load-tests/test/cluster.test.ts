import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import https from 'node:https';
import path from 'node:path';
import readline from 'node:readline';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertService, PG_ADMIN_URL, postgresAvailable, REDIS_URL, redisAvailable } from '../../server/test/support/services.ts';
import { dropDatabase } from '../cluster/cluster-database.ts';
import { NGINX_HINT, nginxBinary } from '../cluster/nginx-process.ts';
import { runScenario } from './support/k6-shim/run-scenario.ts';

// `npm run cluster` as a user runs it: the real entry point in a child process, configured by
// environment, then everything checked through nginx over TLS, then SIGTERM.

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const RUN = `${process.pid}_${Date.now().toString(36)}`;
const DATABASE = `flock_cluster_test_${RUN}`;

interface Started {
  child: ChildProcess;
  url: string;
  certFile: string;
  /** name → pid and direct URL, as printed. */
  processes: Map<string, { pid: number; url: string }>;
  output: string[];
  exit: Promise<number | null>;
}

function startClusterCli(): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'load-tests/cluster/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      CLUSTER_HTTPS_PORT: '0',
      CLUSTER_GATEWAY_PORTS: '0,0',
      CLUSTER_MEDIA_PORT: '0',
      CLUSTER_RTMP_PORT: '0',
      CLUSTER_PG_URL: PG_ADMIN_URL,
      CLUSTER_DATABASE: DATABASE,
      CLUSTER_REDIS_URL: REDIS_URL,
      CLUSTER_REDIS_PREFIX: `flock-cluster-test:${RUN}:`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  process.once('exit', () => child.kill('SIGKILL'));
  const output: string[] = [];
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const processes = new Map<string, { pid: number; url: string }>();
    let url = '';
    let certFile = '';
    for (const stream of [child.stdout!, child.stderr!]) {
      readline.createInterface({ input: stream }).on('line', (line) => {
        output.push(line);
        const ready = /^Flock cluster ready: (\S+)\s+\(self-signed certificate: (\S+)\)/.exec(line);
        if (ready) [url, certFile] = [ready[1]!, ready[2]!];
        const proc = /^\s+(\S+)\s+pid (\d+)\s+(\S+)$/.exec(line);
        if (proc) processes.set(proc[1]!, { pid: Number(proc[2]), url: proc[3]! });
        if (line === 'Ctrl-C stops every process.') resolve({ child, url, certFile, processes, output, exit });
      });
    }
    void exit.then((code) => reject(new Error(`cluster exited with ${code} before it was ready:\n${output.join('\n')}`)));
  });
}

function request(s: Started, method: string, p: string, body?: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const u = new URL(p, s.url);
    const req = https.request(
      // The cluster's own certificate as the only trusted CA: this fails unless nginx serves it.
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method, ca: readFileSync(s.certFile), headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          const isJson = (res.headers['content-type'] ?? '').includes('json');
          resolve({ status: res.statusCode ?? 0, json: isJson && text ? JSON.parse(text) : null });
        });
      },
    );
    req.once('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The node id inside a snowflake id: which gateway created it. */
const nodeOf = (id: string) => Number((BigInt(id) >> 12n) & 1023n);

function connect(s: Started, token: string, transports: ('websocket' | 'polling')[]): Promise<Socket> {
  const socket = io(s.url, { auth: { token }, transports, ca: readFileSync(s.certFile, 'utf8'), reconnection: false, forceNew: true, timeout: 10_000 });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

async function tweetBroadcastsOn(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^flock_socket_broadcasts_total\{event="tweet"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

async function socketsOn(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^flock_sockets_connected(?:\{[^}]*\})? (\d+)/m.exec(text);
  if (!m) throw new Error(`no flock_sockets_connected in ${url}/metrics`);
  return Number(m[1]);
}

/** Pids of the children of `pid` (nginx's workers). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so split after ')'.
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm run cluster', () => {
  let s: Started;

  beforeAll(async () => {
    assertService('postgres', await postgresAvailable());
    assertService('redis', await redisAvailable());
    if (!nginxBinary()) throw new Error(NGINX_HINT);
    s = await startClusterCli();
  }, 120_000);

  afterAll(async () => {
    if (s && s.child.exitCode === null) {
      s.child.kill('SIGKILL');
      await s.exit;
    }
    if (await postgresAvailable()) await dropDatabase(PG_ADMIN_URL, DATABASE);
  }, 60_000);

  it('prints the URLs of nginx and of both gateways', () => {
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect([...s.processes.keys()].sort()).toEqual(expect.arrayContaining(['gateway-1', 'gateway-2', 'nginx']));
    expect(s.output.join('\n')).toContain(`BASE_URL=${s.url} WS_URL=${s.url.replace('https', 'wss')}`);
  });

  it('balances HTTPS requests over both gateways, and they share one database', async () => {
    const made: { handle: string; id: string }[] = [];
    for (let i = 0; i < 4; i++) {
      const handle = `c${i}_${RUN}`.slice(0, 15);
      const r = await request(s, 'POST', '/v1/auth/register', { handle, email: `c${i}_${RUN}@example.com`, password: 'correct horse battery' });
      expect(r.status).toBe(201);
      made.push({ handle, id: r.json.user.id });
    }
    expect(new Set(made.map((u) => nodeOf(u.id)))).toEqual(new Set([1, 2]));
    // A user registered through one node is readable through either.
    for (const u of made) {
      for (let i = 0; i < 2; i++) expect((await request(s, 'GET', `/v1/users/${u.handle}`)).json.id).toBe(u.id);
    }
  });

  it('upgrades Socket.IO WebSockets through nginx to both gateways, and keeps long-polling sessions on one node', async () => {
    const reg = await request(s, 'POST', '/v1/auth/register', { handle: `ws_${RUN}`.slice(0, 15), email: `ws_${RUN}@example.com`, password: 'correct horse battery' });
    expect(reg.status).toBe(201);
    const token: string = reg.json.accessToken;
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < 4; i++) sockets.push(await connect(s, token, ['websocket']));
      expect(sockets.every((x) => x.io.engine.transport.name === 'websocket')).toBe(true);
      const g1 = await socketsOn(s.processes.get('gateway-1')!.url);
      const g2 = await socketsOn(s.processes.get('gateway-2')!.url);
      expect(g1).toBeGreaterThanOrEqual(1);
      expect(g2).toBeGreaterThanOrEqual(1);
      expect(g1 + g2).toBe(4);

      // Polling first, then the upgrade carrying ?sid=: every request of that session must reach
      // the node that holds it, or the handshake fails with "Session ID unknown".
      const polling = await connect(s, token, ['polling', 'websocket']);
      sockets.push(polling);
      await new Promise<void>((resolve) => {
        if (polling.io.engine.transport.name === 'websocket') resolve();
        else polling.io.engine.once('upgrade', () => resolve());
      });
      const ack = await polling.timeout(10_000).emitWithAck('sync', {});
      expect(ack.ok).toBe(true);
    } finally {
      for (const x of sockets) x.close();
    }
  });

  it('carries timeline-push through nginx: tweets posted through both gateways reach every follower', async () => {
    const gateways = [s.processes.get('gateway-1')!.url, s.processes.get('gateway-2')!.url];
    const before = await Promise.all(gateways.map(tweetBroadcastsOn));
    const summaries = mkdtempSync(path.join(os.tmpdir(), 'flock-cluster-k6-'));
    try {
      const r = await runScenario({
        script: 'load-tests/k6/scenarios/timeline-push.ts',
        env: {
          BASE_URL: s.url,
          K6_INSECURE_SKIP_TLS_VERIFY: 'true',
          SUMMARY_DIR: summaries,
          FOLLOWERS: '4',
          AUTHORS: '2',
          FOLLOWS: '2',
          TWEET_RATE: '4',
          POST_DURATION: '2s',
          CONNECT_WAIT: '5s',
          GRACE: '5s',
        },
        calls: [
          { exec: 'follower', scenario: 'followers', count: 4, atMs: 0, spacingMs: 0 },
          { exec: 'author', scenario: 'authors', count: 8, atMs: 5000, spacingMs: 250 },
        ],
      });
      // Round robin posted through both nodes, so whichever node a follower's socket is on, the
      // tweets posted through the other one crossed nodes through Redis: 8 tweets × 4 followers.
      const after = await Promise.all(gateways.map(tweetBroadcastsOn));
      expect(after[0]! - before[0]!).toBeGreaterThan(0);
      expect(after[1]! - before[1]!).toBeGreaterThan(0);
      expect(r.values.flock_tweets_posted!.count).toBe(8);
      expect(r.values.flock_deliveries!.count).toBe(32);
      expect(r.values.flock_missed_deliveries!.count).toBe(0);
      expect(r.values.flock_handshake_errors).toBeUndefined();
      expect(r.values.flock_sockets_dropped).toBeUndefined();
    } finally {
      rmSync(summaries, { recursive: true, force: true });
    }
  }, 120_000);

  it('answers /hls/ with 502 while no media service runs on this checkout', async () => {
    if (s.processes.has('media')) {
      // With media present, an unknown stream is the origin's 404, not the balancer's 502.
      expect((await request(s, 'GET', '/hls/0/index.m3u8')).status).toBe(404);
    } else {
      expect(s.output.join('\n')).toContain('media      not started');
      expect((await request(s, 'GET', '/hls/0/index.m3u8')).status).toBe(502);
    }
  });

  it('stops every process it started on SIGTERM, nginx workers included', async () => {
    const pids = [...s.processes.values()].map((p) => p.pid);
    const workers = childrenOf(s.processes.get('nginx')!.pid);
    expect(workers.length).toBeGreaterThan(0);
    s.child.kill('SIGTERM');
    expect(await s.exit).toBe(0);
    expect(s.output).toContain('cluster stopped');
    expect([...pids, ...workers].filter(alive)).toEqual([]);
  }, 60_000);
});
