import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TransportName } from '../support/test-gateway.ts';

describe('TLS served by the gateway itself', () => {
  let dir: string;
  let cert: string;
  let key: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'flock-tls-'));
    cert = path.join(dir, 'cert.pem');
    key = path.join(dir, 'key.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const transport of ['uws', 'node'] as TransportName[]) {
    it(`serves HTTPS with TLS_CERT_FILE and TLS_KEY_FILE on ${transport}`, async () => {
      const t = await startTestGateway('pglite', transport, { TLS_CERT_FILE: cert, TLS_KEY_FILE: key });
      try {
        expect(t.url).toMatch(/^https:/);
        const { status, body, authorized } = await new Promise<{ status: number; body: string; authorized: boolean }>((resolve, reject) => {
          https
            .get(`${t.url}/healthz`, { ca: readFileSync(cert), servername: 'localhost', checkServerIdentity: () => undefined }, (res) => {
              const authorized = (res.socket as TLSSocket).authorized;
              let b = '';
              res.on('data', (d) => (b += d));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b, authorized }));
            })
            .on('error', reject);
        });
        expect(status).toBe(200);
        expect(JSON.parse(body)).toEqual({ status: 'ok' });
        expect(authorized).toBe(true);
      } finally {
        await t.close();
      }
    });
  }
});
