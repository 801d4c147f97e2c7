/**
 * Settings of the k6 scenarios, read from k6's `__ENV` (or any string map, under vitest). Every
 * scenario takes BASE_URL (the HTTP API, https://… through the load balancer) and WS_URL (the
 * Socket.IO endpoint's scheme and host; derived from BASE_URL when unset). A bad value throws at
 * init, so a typo never runs a load test with a default nobody meant.
 */

export type Env = Record<string, string | undefined>;

export class SettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingError';
  }
}

const URL_RE = /^(https?|wss?):\/\/[^/?#\s]+$/i;

export interface Endpoints {
  /** No trailing slash: https://flock.example */
  baseUrl: string;
  /** ws(s)://host[:port] */
  wsUrl: string;
}

export function endpoints(env: Env): Endpoints {
  const base = (env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
  if (!URL_RE.test(base) || /^ws/i.test(base)) throw new SettingError(`BASE_URL=${base}: expected http(s)://host[:port] without a path`);
  const ws = (env.WS_URL || base.replace(/^http/i, 'ws')).replace(/\/+$/, '');
  if (!URL_RE.test(ws)) throw new SettingError(`WS_URL=${ws}: expected ws(s)://host[:port] or http(s)://host[:port] without a path`);
  return { baseUrl: base, wsUrl: ws };
}

export function intSetting(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new SettingError(`${name}=${raw}: expected a whole number`);
  const n = Number(raw);
  if (n < min || n > max) throw new SettingError(`${name}=${raw}: expected ${min}–${max}`);
  return n;
}

/** A k6 duration (`90s`, `5m`, `1h30m`); returned as given, since k6 options take the string. */
export function durationSetting(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^(\d+h)?(\d+m)?(\d+s)?$/.test(raw) || raw === '') throw new SettingError(`${name}=${raw}: expected a duration such as 30s, 5m or 1h30m`);
  return raw;
}

export function seconds(duration: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration);
  if (!m || duration === '') throw new SettingError(`${duration}: expected a duration such as 30s, 5m or 1h30m`);
  return Number(m[1] || 0) * 3600 + Number(m[2] || 0) * 60 + Number(m[3] || 0);
}

/**
 * Load-test users: `<prefix><run>_<n>` within Flock's 15-character handle rule. The same RUN_ID
 * finds the same users again (the auth helper logs them in instead of registering).
 */
export function handleFor(prefix: string, runId: string, n: number): string {
  const handle = `${prefix}${runId}_${n}`;
  if (!/^[A-Za-z0-9_]{1,15}$/.test(handle)) {
    throw new SettingError(`load-test handle ${handle} breaks the handle rule (1–15 of [A-Za-z0-9_]): shorten RUN_ID or the user count`);
  }
  return handle;
}

/** A short run id (base 36 of the start second), unless RUN_ID is set. */
export function runId(env: Env, nowMs: number): string {
  const id = env.RUN_ID || Math.floor(nowMs / 1000).toString(36).slice(-5);
  if (!/^[a-z0-9]{1,8}$/i.test(id)) throw new SettingError(`RUN_ID=${id}: expected 1–8 letters or digits`);
  return id;
}
