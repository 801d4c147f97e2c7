import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGatewayProcess } from '../support/gateway-process.ts';
import { makeApi } from '../support/test-gateway.ts';

interface Started {
  child: ChildProcess;
  port: number;
  logs: string[];
}

const startProcess = (env: Record<string, string>): Promise<Started> => startGatewayProcess(env);

const exited = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (code) => r(code)));

describe('the gateway process (npm start)', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('refuses to start on bad settings and lists every problem', async () => {
    const err = (await startProcess({ PORT: 'eighty', LOG_LEVEL: 'loud', RATE_LOGIN_PER_IP: 'lots', TLS_CERT_FILE: '/x.pem' }).catch((e: unknown) => e)) as {
      code: number;
      logs: string[];
    };
    expect(err.code).toBe(1);
    const text = err.logs.join('\n');
    for (const key of ['PORT', 'LOG_LEVEL', 'RATE_LOGIN_PER_IP', 'TLS_CERT_FILE']) expect(text).toContain(key);
  });

  it('serves on embedded storage, keeps data across restarts, refuses a second process on the same DATA_DIR, and drains on SIGTERM', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'flock-proc-'));
    dirs.push(dataDir);
    const first = await startProcess({ DATA_DIR: dataDir });
    children.push(first.child);
    expect(first.logs.join('\n')).toContain('"transport":"uws"');
    const api = makeApi(`http://127.0.0.1:${first.port}`);
    const reg = await api('POST', '/v1/auth/register', { body: { handle: 'durable', email: 'd@example.test', password: 'long enough pw' } });
    expect(reg.status).toBe(201);
    expect((await api('POST', '/v1/tweets', { token: reg.body.accessToken, body: { text: 'kept on disk' } })).status).toBe(201);

    const second = (await startProcess({ DATA_DIR: dataDir }).catch((e: unknown) => e)) as { code: number; logs: string[] };
    expect(second.code).toBe(1);
    expect(second.logs.join('\n')).toMatch(/DATA_DIR .* is in use by process/);

    first.child.kill('SIGTERM');
    expect(await exited(first.child)).toBe(0);
    expect(first.logs.join('\n')).toContain('flock gateway stopped');

    const again = await startProcess({ DATA_DIR: dataDir });
    children.push(again.child);
    const api2 = makeApi(`http://127.0.0.1:${again.port}`);
    const tweets = await api2('GET', '/v1/users/durable/tweets');
    expect(tweets.body.items.map((x: { text: string }) => x.text)).toEqual(['kept on disk']);
    // Tokens stay valid across a restart: the signing key is stored too.
    expect((await api2('GET', '/v1/users/me', { token: reg.body.accessToken })).body.handle).toBe('durable');
    again.child.kill('SIGTERM');
    expect(await exited(again.child)).toBe(0);
  }, 90_000); // three cold starts of embedded PGlite (about 6 s each when idle) plus the build check
});
