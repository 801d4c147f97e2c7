import { check } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { setTimeout } from 'k6/timers';
import type { Page, Tweet } from '../../../client-sdk/src/protocol/types.ts';
import type { TweetEvent } from '../../../client-sdk/src/protocol/events.ts';
import { deliveryMs, missedDeliveries, type TimelineTweet } from '../../lib/delivery.ts';
import { durationSetting, endpoints, intSetting, runId, seconds } from '../../lib/load-settings.ts';
import { authHeaders, follow, registerUsers, type LoadUser } from '../lib/auth.ts';
import { openFlockSocket } from '../lib/socket.ts';
import { summaryHandler } from '../lib/summary.ts';

/**
 * timeline-push: FOLLOWERS hold sockets while AUTHORS post over HTTP at TWEET_RATE per second.
 * Each follower follows FOLLOWS authors. `flock_delivery_ms` is a tweet's createdAt (server
 * clock) → its `tweet` push arriving at a follower (k6's clock; run k6 near the servers or with
 * synced clocks). At the end each follower reads its home timeline over HTTP: every tweet it was
 * owed while connected (created at least GRACE before the check) that never came live counts in
 * `flock_missed_deliveries`, which must stay 0 — live pushes are at-most-once, but a healthy
 * cluster delivers them all.
 *
 *   FOLLOWERS (200)  AUTHORS (20)  FOLLOWS (5)  TWEET_RATE (10)  POST_DURATION (1m)
 *   CONNECT_WAIT (20s: sockets connect before posting starts)  GRACE (5s)
 */

const env = endpoints(__ENV);
const FOLLOWERS = intSetting(__ENV, 'FOLLOWERS', 200, 1, 1_000_000);
const AUTHORS = intSetting(__ENV, 'AUTHORS', 20, 1, 10_000);
const FOLLOWS = Math.min(intSetting(__ENV, 'FOLLOWS', 5, 1, 1000), AUTHORS);
const TWEET_RATE = intSetting(__ENV, 'TWEET_RATE', 10, 1, 100_000);
const POST_DURATION = durationSetting(__ENV, 'POST_DURATION', '1m');
const CONNECT_WAIT = durationSetting(__ENV, 'CONNECT_WAIT', '20s');
const GRACE = durationSetting(__ENV, 'GRACE', '5s');
const RUN = runId(__ENV, Date.now());

const delivery = new Trend('flock_delivery_ms', true);
const delivered = new Counter('flock_deliveries');
const missed = new Counter('flock_missed_deliveries');
const handshakeErrors = new Counter('flock_handshake_errors');
const dropped = new Counter('flock_sockets_dropped');
const posted = new Counter('flock_tweets_posted');

const holdSeconds = seconds(CONNECT_WAIT) + seconds(POST_DURATION) + seconds(GRACE);

export const options: Options = {
  setupTimeout: '10m',
  scenarios: {
    followers: {
      executor: 'per-vu-iterations',
      exec: 'follower',
      vus: FOLLOWERS,
      iterations: 1,
      maxDuration: `${holdSeconds + 60}s`,
    },
    authors: {
      executor: 'constant-arrival-rate',
      exec: 'author',
      startTime: CONNECT_WAIT,
      rate: TWEET_RATE,
      timeUnit: '1s',
      duration: POST_DURATION,
      preAllocatedVUs: Math.max(2, Math.min(AUTHORS, TWEET_RATE * 2)),
      maxVUs: Math.max(10, AUTHORS),
    },
  },
  thresholds: {
    // SLO: a followed author's tweet reaches 95% of online followers within 1 s, 99% within 2 s.
    flock_delivery_ms: ['p(95)<1000', 'p(99)<2000'],
    // Nothing owed is lost on a healthy cluster.
    flock_missed_deliveries: ['count==0'],
    flock_handshake_errors: ['count==0'],
    flock_sockets_dropped: ['count==0'],
    'http_req_failed{scenario:authors}': ['rate<0.01'],
    'http_req_duration{scenario:authors}': ['p(95)<500'],
  },
};

interface Follower extends LoadUser {
  followed: Record<string, true>;
}

interface Data {
  authors: LoadUser[];
  followers: Follower[];
}

export function setup(): Data {
  const authors = registerUsers(env.baseUrl, 'ta', RUN, AUTHORS);
  const users = registerUsers(env.baseUrl, 'tf', RUN, FOLLOWERS);
  const pairs: { follower: LoadUser; followee: LoadUser }[] = [];
  const followers = users.map((u, i): Follower => {
    const followed: Record<string, true> = {};
    for (let j = 0; j < FOLLOWS; j++) {
      const author = authors[(i + j) % authors.length]!;
      followed[author.id] = true;
      pairs.push({ follower: u, followee: author });
    }
    return { ...u, followed };
  });
  follow(env.baseUrl, pairs);
  return { authors, followers };
}

export function author(data: Data): void {
  const me = data.authors[exec.scenario.iterationInTest % data.authors.length]!;
  const res = http.post(`${env.baseUrl}/v1/tweets`, JSON.stringify({ text: `k6 timeline-push ${RUN} #${exec.scenario.iterationInTest}` }), {
    headers: authHeaders(me.token),
    tags: { name: 'POST /v1/tweets' },
  });
  if (check(res, { 'tweet posted (201)': (r) => r.status === 201 })) posted.add(1);
}

/** The home timeline back to `fromMs` (newest first, a few pages at most). */
function timelineSince(token: string, fromMs: number): TimelineTweet[] {
  const out: TimelineTweet[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 20; page++) {
    const url: string = `${env.baseUrl}/v1/timeline/home?limit=100${cursor ? `&cursor=${cursor}` : ''}`;
    const res = http.get(url, { headers: authHeaders(token), tags: { name: 'GET /v1/timeline/home' } });
    if (!check(res, { 'timeline read (200)': (r) => r.status === 200 })) break;
    const body = res.json() as unknown as Page<Tweet>;
    out.push(...body.items);
    const oldest = body.items[body.items.length - 1];
    if (!body.next || !oldest || Date.parse(oldest.createdAt) < fromMs) break;
    cursor = body.next;
  }
  return out;
}

export function follower(data: Data): Promise<void> {
  const me = data.followers[exec.scenario.iterationInTest % data.followers.length]!;
  const received: Record<string, true> = {};
  // Every follower audits at the same moment: after the authors' last tweet plus GRACE.
  const auditAt = exec.scenario.startTime + holdSeconds * 1000;
  return new Promise((resolve) => {
    let connectedAt = 0;
    let done = false;
    const socket = openFlockSocket(
      env.wsUrl,
      me.token,
      {
        onConnect() {
          connectedAt = Date.now();
          // Hold until the authors are done and pushes had GRACE to arrive, then audit.
          setTimeout(() => {
            const checkedAt = Date.now();
            const timeline = timelineSince(me.token, connectedAt);
            const lost = missedDeliveries(timeline, received, me.followed, { fromMs: connectedAt, toMs: checkedAt - seconds(GRACE) * 1000 });
            missed.add(lost.length);
            done = true;
            socket.close();
            resolve();
          }, Math.max(0, auditAt - Date.now()));
        },
        onEvent(event, args) {
          if (event !== 'tweet') return;
          const e = args[0] as TweetEvent;
          if (received[e.id]) return; // a repeat (the contract allows them): one delivery
          received[e.id] = true;
          if (me.followed[e.tweet.author.id]) {
            delivery.add(deliveryMs(e.tweet.createdAt, Date.now()));
            delivered.add(1);
          }
        },
        onConnectError(message) {
          handshakeErrors.add(1, { reason: message });
          done = true;
          resolve();
        },
        onClose() {
          if (done) return;
          done = true;
          if (connectedAt > 0) dropped.add(1);
          else handshakeErrors.add(1, { reason: 'closed during handshake' });
          resolve();
        },
      },
      { scenario: 'timeline-push' },
    );
  });
}

export const handleSummary = summaryHandler('timeline-push', ['flock_deliveries', 'flock_tweets_posted']);
