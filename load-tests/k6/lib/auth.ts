import { fail } from 'k6';
import http, { type RefinedResponse } from 'k6/http';
import type { AuthResult } from '../../../client-sdk/src/protocol/types.ts';
import { handleFor } from '../../lib/load-settings.ts';

/**
 * Test users for setup(): registers `<prefix><run>_<n>` (or logs in when a previous run with the
 * same RUN_ID made it), in parallel batches. Registration is rate-limited per client address
 * (RATE_REGISTER_PER_IP, 50/h by default): a deployment under load test raises it, and a 429 here
 * says so instead of failing later.
 */

export interface LoadUser {
  id: string;
  handle: string;
  token: string;
}

export const LOAD_TEST_PASSWORD = 'k6 load test password';
const BATCH = 20;
const JSON_HEADERS = { 'content-type': 'application/json' };

export function authHeaders(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
}

function body(res: RefinedResponse<'text'>): AuthResult | null {
  try {
    return JSON.parse(res.body as string) as AuthResult;
  } catch {
    return null;
  }
}

function explain(what: string, res: RefinedResponse<'text'>): never {
  const hint =
    res.status === 429
      ? ' (rate limited: raise RATE_REGISTER_PER_IP / RATE_LOGIN_PER_IP / RATE_LOGIN_PER_ACCOUNT on the gateways under test, see docs/load-testing.md)'
      : res.status === 0
        ? ` (no answer: ${res.error}; is BASE_URL right, and does a self-signed certificate need K6_INSECURE_SKIP_TLS_VERIFY=true?)`
        : '';
  return fail(`${what}: HTTP ${res.status} ${String(res.body).slice(0, 200)}${hint}`);
}

export function registerUsers(baseUrl: string, prefix: string, runId: string, count: number): LoadUser[] {
  const users: LoadUser[] = [];
  for (let start = 0; start < count; start += BATCH) {
    const handles: string[] = [];
    for (let n = start; n < Math.min(count, start + BATCH); n++) handles.push(handleFor(prefix, runId, n));
    const registered = http.batch(
      handles.map((handle) => ({
        method: 'POST',
        url: `${baseUrl}/v1/auth/register`,
        body: JSON.stringify({ handle, email: `${handle}@load-test.invalid`, password: LOAD_TEST_PASSWORD, name: `k6 ${handle}` }),
        params: { headers: JSON_HEADERS, tags: { name: 'setup register' } },
      })),
    );
    registered.forEach((res, i) => {
      const handle = handles[i]!;
      let result = res.status === 201 ? body(res) : null;
      if (res.status === 409) {
        const login = http.post(`${baseUrl}/v1/auth/login`, JSON.stringify({ handle, password: LOAD_TEST_PASSWORD }), {
          headers: JSON_HEADERS,
          tags: { name: 'setup login' },
        });
        if (login.status !== 200) explain(`logging in ${handle}`, login);
        result = body(login);
      } else if (res.status !== 201) {
        explain(`registering ${handle}`, res);
      }
      if (result === null) return fail(`registering ${handle}: the answer is not JSON`);
      users.push({ id: result.user.id, handle, token: result.accessToken });
    });
  }
  return users;
}

/** `follower` follows each of `followees` (idempotent PUT), in parallel batches. */
export function follow(baseUrl: string, pairs: readonly { follower: LoadUser; followee: LoadUser }[]): void {
  for (let start = 0; start < pairs.length; start += BATCH) {
    const batch = pairs.slice(start, start + BATCH);
    const res = http.batch(
      batch.map((p) => ({
        method: 'PUT',
        url: `${baseUrl}/v1/users/${p.followee.handle}/follow`,
        body: null,
        params: { headers: authHeaders(p.follower.token), tags: { name: 'setup follow' } },
      })),
    );
    res.forEach((r, i) => {
      if (r.status !== 200) explain(`${batch[i]!.follower.handle} following ${batch[i]!.followee.handle}`, r);
    });
  }
}
