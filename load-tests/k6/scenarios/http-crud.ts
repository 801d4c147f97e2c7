import { check } from 'k6';
import http, { type RefinedResponse, type ResponseType } from 'k6/http';
import type { Options } from 'k6/options';
import type { Tweet } from '../../../client-sdk/src/protocol/types.ts';
import { durationSetting, endpoints, intSetting, runId } from '../../lib/load-settings.ts';
import { pick, validateMix, type Mix } from '../../lib/operation-mix.ts';
import { authHeaders, registerUsers, type LoadUser } from '../lib/auth.ts';
import { summaryHandler } from '../lib/summary.ts';

/**
 * http-crud: a constant arrival rate of API calls, whatever the latency (an open model: a slow
 * server gets a queue, not fewer users), mixing reads and writes the way a timeline app does.
 * Requests are tagged `kind:read|write` and `op:<name>` for the thresholds and the JSON summary.
 *
 *   RATE (50 calls/s)  DURATION (2m)  USERS (50)  MAX_VUS (200)
 */

const env = endpoints(__ENV);
const RATE = intSetting(__ENV, 'RATE', 50, 1, 1_000_000);
const DURATION = durationSetting(__ENV, 'DURATION', '2m');
const USERS = intSetting(__ENV, 'USERS', 50, 1, 10_000);
const MAX_VUS = intSetting(__ENV, 'MAX_VUS', 200, 1, 100_000);
const RUN = runId(__ENV, Date.now());

/** Reads dominate, as on any social network; the weights are percentages. */
const MIX = {
  home: 35,
  tweet: 15,
  profile: 10,
  comments: 10,
  post: 12,
  like: 10,
  comment: 5,
  follow: 3,
} as const satisfies Mix<string>;
type Op = keyof typeof MIX;
validateMix(MIX);
const WRITES: Record<Op, boolean> = { home: false, tweet: false, profile: false, comments: false, post: true, like: true, comment: true, follow: true };

export const options: Options = {
  setupTimeout: '5m',
  scenarios: {
    crud: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: Math.min(MAX_VUS, Math.max(10, RATE)),
      maxVUs: MAX_VUS,
    },
  },
  thresholds: {
    // SLO: reads p95 < 200 ms and p99 < 500 ms; writes p95 < 500 ms; under 1% errors.
    'http_req_duration{kind:read}': ['p(95)<200', 'p(99)<500'],
    'http_req_duration{kind:write}': ['p(95)<500', 'p(99)<1000'],
    'http_req_failed{scenario:crud}': ['rate<0.01'],
    checks: ['rate>0.99'],
    // The load generator kept the rate: no call was skipped for lack of VUs (a saturated
    // server shows up here as well as in latency).
    dropped_iterations: ['count==0'],
  },
};

interface Data {
  users: LoadUser[];
  tweets: string[];
}

export function setup(): Data {
  const users = registerUsers(env.baseUrl, 'hc', RUN, USERS);
  // One tweet per user, so reads, likes and comments have targets from the first second.
  const res = http.batch(
    users.map((u) => ({
      method: 'POST',
      url: `${env.baseUrl}/v1/tweets`,
      body: JSON.stringify({ text: `k6 http-crud seed by ${u.handle}` }),
      params: { headers: authHeaders(u.token), tags: { name: 'setup tweet' } },
    })),
  );
  const tweets = res.filter((r) => r.status === 201).map((r) => (r.json() as unknown as Tweet).id);
  if (tweets.length === 0) throw new Error(`setup could not post any tweet (first answer: HTTP ${res[0]?.status} ${String(res[0]?.body).slice(0, 200)})`);
  return { users, tweets };
}

const any = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

function call(op: Op, fn: (params: { headers: Record<string, string>; tags: Record<string, string> }) => RefinedResponse<ResponseType | undefined>, token: string, ok: number): void {
  const res = fn({ headers: authHeaders(token), tags: { op, kind: WRITES[op] ? 'write' : 'read', name: op } });
  check(res, { [`${op} answers ${ok}`]: (r) => r.status === ok });
}

export default function (data: Data): void {
  const me = any(data.users);
  const tweet = any(data.tweets);
  const B = env.baseUrl;
  const op = pick(MIX, Math.random());
  switch (op) {
    case 'home':
      return call(op, (p) => http.get(`${B}/v1/timeline/home?limit=20`, p), me.token, 200);
    case 'tweet':
      return call(op, (p) => http.get(`${B}/v1/tweets/${tweet}`, p), me.token, 200);
    case 'profile':
      return call(op, (p) => http.get(`${B}/v1/users/${any(data.users).handle}`, p), me.token, 200);
    case 'comments':
      return call(op, (p) => http.get(`${B}/v1/tweets/${tweet}/comments?limit=20`, p), me.token, 200);
    case 'post':
      return call(op, (p) => http.post(`${B}/v1/tweets`, JSON.stringify({ text: `k6 http-crud ${RUN} ${Date.now()}` }), p), me.token, 201);
    case 'like':
      return call(op, (p) => http.put(`${B}/v1/tweets/${tweet}/reactions/like`, null, p), me.token, 200);
    case 'comment':
      return call(op, (p) => http.post(`${B}/v1/tweets/${tweet}/comments`, JSON.stringify({ text: `k6 comment ${Date.now()}` }), p), me.token, 201);
    case 'follow': {
      const other = any(data.users);
      if (other.handle === me.handle) return call('profile', (p) => http.get(`${B}/v1/users/${other.handle}`, p), me.token, 200);
      return call(op, (p) => http.put(`${B}/v1/users/${other.handle}/follow`, null, p), me.token, 200);
    }
  }
}

export const handleSummary = summaryHandler('http-crud', ['http_reqs', 'http_req_duration', 'iterations', 'vus_max']);
