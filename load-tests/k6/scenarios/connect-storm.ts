import exec from 'k6/execution';
import { Counter, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { setTimeout } from 'k6/timers';
import { durationSetting, endpoints, intSetting, runId, seconds } from '../../lib/load-settings.ts';
import { registerUsers, type LoadUser } from '../lib/auth.ts';
import { openFlockSocket } from '../lib/socket.ts';
import { summaryHandler } from '../lib/summary.ts';

/**
 * connect-storm: ramps to SOCKETS concurrent Flock sockets and holds them. Measures how long a
 * handshake takes (WebSocket upgrade → Engine.IO open → Socket.IO `40` with the token accepted),
 * how many handshakes fail, and whether every socket stays connected while held.
 *
 *   SOCKETS (1000)  RAMP (1m)  HOLD (1m)  USERS (100: sockets share these accounts)
 */

const env = endpoints(__ENV);
const SOCKETS = intSetting(__ENV, 'SOCKETS', 1000, 1, 1_000_000);
const RAMP = durationSetting(__ENV, 'RAMP', '1m');
const HOLD = durationSetting(__ENV, 'HOLD', '1m');
const USERS = intSetting(__ENV, 'USERS', Math.min(100, SOCKETS), 1, 10_000);
const RUN = runId(__ENV, Date.now());

const connectMs = new Trend('flock_connect_ms', true);
const handshakeErrors = new Counter('flock_handshake_errors');
const connected = new Counter('flock_sockets_connected');
const dropped = new Counter('flock_sockets_dropped');

export const options: Options = {
  setupTimeout: '5m',
  scenarios: {
    storm: {
      executor: 'ramping-vus',
      startVUs: 0,
      // Each VU holds one socket until the end: ramp up, then hold everyone.
      stages: [
        { duration: RAMP, target: SOCKETS },
        { duration: HOLD, target: SOCKETS },
      ],
      gracefulRampDown: '10s',
      gracefulStop: '30s',
    },
  },
  thresholds: {
    // SLO: 95% of handshakes complete within 1 s, 99% within 2 s, under the storm.
    flock_connect_ms: ['p(95)<1000', 'p(99)<2000'],
    // No handshake is refused or fails.
    flock_handshake_errors: ['count==0'],
    // Every VU got its socket (the storm reached SOCKETS concurrent sockets).
    flock_sockets_connected: [`count>=${SOCKETS}`],
    // No held socket is closed by the server or the network.
    flock_sockets_dropped: ['count==0'],
  },
};

export function setup(): { users: LoadUser[] } {
  return { users: registerUsers(env.baseUrl, 'cs', RUN, USERS) };
}

export default function (data: { users: LoadUser[] }): Promise<void> {
  const user = data.users[(exec.vu.idInTest - 1) % data.users.length]!;
  // Every socket is held until just before the storm ends, whenever its VU started, and closed
  // by the script: k6 tearing VUs down must not look like the server dropping them.
  const closeAt = exec.scenario.startTime + (seconds(RAMP) + seconds(HOLD)) * 1000 - 2000;
  return new Promise((resolve) => {
    const started = Date.now();
    let wasConnected = false;
    let done = false;
    // After a failure the VU pauses a second before its next attempt, so a refusing server is
    // not hammered by a tight reconnect loop. Called before the script's own close(), whose
    // onClose must not count as a drop.
    const finish = (pauseMs: number) => {
      done = true;
      setTimeout(resolve, pauseMs);
    };
    const socket = openFlockSocket(
      env.wsUrl,
      user.token,
      {
        onConnect() {
          wasConnected = true;
          connectMs.add(Date.now() - started);
          connected.add(1);
          setTimeout(() => {
            // Idle through the storm's last seconds instead of opening another socket.
            finish(3000);
            socket.close();
          }, Math.max(0, closeAt - Date.now()));
        },
        onConnectError(message, errData) {
          const code = errData && typeof errData === 'object' && 'code' in errData ? String(errData.code) : message;
          handshakeErrors.add(1, { reason: code });
          finish(1000);
          socket.close();
        },
        onClose() {
          if (done) return;
          // Closed before the hold ended: by the server or the network (the upgrade itself, when
          // the socket never connected).
          if (wasConnected) dropped.add(1);
          else handshakeErrors.add(1, { reason: 'closed during handshake' });
          finish(1000);
        },
      },
      { scenario: 'connect-storm' },
    );
  });
}

export const handleSummary = summaryHandler('connect-storm', ['vus_max', 'ws_sessions', 'ws_connecting']);
