import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startGateway } from '../../src/gateway.ts';
import { assertService, createTestDatabase, postgresAvailable } from '../support/services.ts';
import { makeApi, startTestGateway, type TestGateway } from '../support/test-gateway.ts';

const ISSUER = 'https://idp.example.test/realms/flock';
const AUDIENCE = 'flock-api';

/** A stand-in OpenID provider: a JWKS endpoint on port 0 and a key to sign with. */
async function startIdp() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
  const server = http.createServer((req, res) => {
    if (req.url === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  const sign = (claims: Record<string, unknown>, opts: { key?: CryptoKey; exp?: number | string; aud?: string; iss?: string } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' })
      .setIssuer(opts.iss ?? ISSUER)
      .setAudience(opts.aud ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? '5m')
      .sign(opts.key ?? privateKey);
  return { url, sign, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('access tokens: expired, forged, wrong issuer, external issuer', () => {
  let t: TestGateway;
  let idp: Awaited<ReturnType<typeof startIdp>>;
  let flockKey: { kid: string; key: CryptoKey };

  beforeAll(async () => {
    idp = await startIdp();
    t = await startTestGateway('pglite', 'uws', { AUTH_EXTERNAL_JWKS_URL: idp.url, AUTH_EXTERNAL_ISSUER: ISSUER, AUTH_EXTERNAL_AUDIENCE: AUDIENCE });
    const [row] = await t.gw.db.query<{ kid: string; private_jwk: string }>('SELECT kid, private_jwk FROM signing_keys');
    flockKey = { kid: row!.kid, key: (await importJWK(JSON.parse(row!.private_jwk) as JWK, 'EdDSA')) as CryptoKey };
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  const flockToken = (claims: Record<string, unknown>, o: { exp?: number | string; iss?: string; aud?: string; key?: CryptoKey; kid?: string } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: o.kid ?? flockKey.kid })
      .setIssuer(o.iss ?? 'flock')
      .setAudience(o.aud ?? 'flock')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .setExpirationTime(o.exp ?? '5m')
      .setSubject(String(claims.sub))
      .sign(o.key ?? flockKey.key);

  it('tells an expired token apart with FLOCK_ERR_TOKEN_EXPIRED so clients refresh', async () => {
    const u = await t.register('exp');
    const sid = JSON.parse(Buffer.from(u.accessToken.split('.')[1]!, 'base64url').toString()).sid;
    const valid = await flockToken({ sub: u.id, sid });
    expect((await t.api('GET', '/v1/timeline/home', { token: valid })).status).toBe(200);
    const expired = await flockToken({ sub: u.id, sid }, { exp: Math.floor(Date.now() / 1000) - 10 });
    const r = await t.api('GET', '/v1/timeline/home', { token: expired });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('FLOCK_ERR_TOKEN_EXPIRED');
  });

  it('refuses forged tokens, wrong issuers, wrong audiences and alg=none', async () => {
    const u = await t.register('frg');
    const sid = JSON.parse(Buffer.from(u.accessToken.split('.')[1]!, 'base64url').toString()).sid;
    const { privateKey: forger } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: flockKey.kid })).toString('base64url')}.${Buffer.from(
      JSON.stringify({ sub: u.id, sid, iss: 'flock', aud: 'flock', exp: Math.floor(Date.now() / 1000) + 300 }),
    ).toString('base64url')}.`;
    const tokens = [
      await flockToken({ sub: u.id, sid }, { key: forger }),
      await flockToken({ sub: u.id, sid }, { key: forger, kid: 'unknown-kid' }),
      await flockToken({ sub: u.id, sid }, { iss: 'https://evil.example' }),
      await flockToken({ sub: u.id, sid }, { aud: 'someone-else' }),
      await flockToken({ sub: u.id, sid: '1' }), // a session that does not exist
      await flockToken({ sub: '1', sid }), // somebody else's session
      none,
    ];
    for (const token of tokens) {
      const r = await t.api('GET', '/v1/timeline/home', { token });
      expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 401, code: 'FLOCK_ERR_UNAUTHORIZED' });
    }
  });

  it('accepts an external issuer token and provisions one account per subject', async () => {
    const token = await idp.sign({ sub: 'kc-user-1', preferred_username: 'ext.user', email: 'ext@example.test', name: 'External User' });
    const me = await t.api('GET', '/v1/users/me', { token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ handle: 'ext_user', email: 'ext@example.test', name: 'External User' });
    const tw = await t.api('POST', '/v1/tweets', { token, body: { text: 'from the idp' } });
    expect(tw.status).toBe(201);
    expect(tw.body.author.id).toBe(me.body.id);
    const again = await t.api('GET', '/v1/users/me', { token: await idp.sign({ sub: 'kc-user-1' }) });
    expect(again.body.id).toBe(me.body.id);
    // Another subject with the same username gets its own account and handle.
    const other = await t.api('GET', '/v1/users/me', { token: await idp.sign({ sub: 'kc-user-2', preferred_username: 'ext.user' }) });
    expect(other.status).toBe(200);
    expect(other.body.id).not.toBe(me.body.id);
    expect(other.body.handle).toMatch(/^ext_user\d+$/);
  });

  it('never links an external identity to an existing account by email', async () => {
    const local = await t.register('loc');
    const r = await t.api('GET', '/v1/users/me', { token: await idp.sign({ sub: 'kc-user-3', email: local.email }) });
    expect(r.status).toBe(200);
    expect(r.body.id).not.toBe(local.id);
    expect(r.body.email).toBeNull();
  });

  it('refuses external tokens that are expired, for another audience, or signed by another key', async () => {
    const expired = await t.api('GET', '/v1/users/me', { token: await idp.sign({ sub: 'kc-user-1' }, { exp: Math.floor(Date.now() / 1000) - 10 }) });
    expect(expired.body.error.code).toBe('FLOCK_ERR_TOKEN_EXPIRED');
    const { privateKey } = await generateKeyPair('ES256');
    for (const token of [await idp.sign({ sub: 'kc-user-1' }, { aud: 'other' }), await idp.sign({ sub: 'kc-user-1' }, { key: privateKey })]) {
      const r = await t.api('GET', '/v1/users/me', { token });
      expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 401, code: 'FLOCK_ERR_UNAUTHORIZED' });
    }
  });
});

describe('signing keys shared by the nodes of a cluster', async () => {
  const available = await postgresAvailable();
  it('a token issued by one node is accepted by another and listed in both JWKS', async () => {
    assertService('postgres', available);
    const db = await createTestDatabase();
    const env = { PORT: 0, HOST: '127.0.0.1', LOG_LEVEL: 'silent', DATABASE_URL: db.url, PASSWORD_SCRYPT_COST: 1024 };
    // Two nodes starting at once on an empty database agree on one signing key.
    const [a, b] = await Promise.all([startGateway(loadConfig({ ...env, NODE_ID: 1 })), startGateway(loadConfig({ ...env, NODE_ID: 2 }))]);
    try {
      const reg = await makeApi(a.url)('POST', '/v1/auth/register', { body: { handle: 'cluster_1', email: 'c1@example.test', password: 'long enough pw' } });
      expect(reg.status).toBe(201);
      const me = await makeApi(b.url)('GET', '/v1/users/me', { token: reg.body.accessToken });
      expect(me.body.handle).toBe('cluster_1');
      const ja = (await makeApi(a.url)('GET', '/.well-known/jwks.json')).body;
      const jb = (await makeApi(b.url)('GET', '/.well-known/jwks.json')).body;
      expect(jb.keys.map((k: { kid: string }) => k.kid)).toEqual(ja.keys.map((k: { kid: string }) => k.kid));
      // Logout through node B ends the session on node A too.
      expect((await makeApi(b.url)('POST', '/v1/auth/logout', { token: reg.body.accessToken })).status).toBe(204);
      expect((await makeApi(a.url)('GET', '/v1/users/me', { token: reg.body.accessToken })).status).toBe(401);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await db.drop();
    }
  });
});

describe('external accounts after deletion', () => {
  it('a deleted external account is provisioned anew, never left half-alive; the handle "me" is never given out', async () => {
    const idp = await startIdp();
    const t = await startTestGateway('pglite', 'node', { AUTH_EXTERNAL_JWKS_URL: idp.url, AUTH_EXTERNAL_ISSUER: ISSUER, AUTH_EXTERNAL_AUDIENCE: AUDIENCE });
    try {
      const token = await idp.sign({ sub: 'kc-del', preferred_username: 'me' });
      const first = await t.api('GET', '/v1/users/me', { token });
      expect(first.status).toBe(200);
      expect(first.body.handle).not.toBe('me');
      expect(first.body.handle).toMatch(/^me\d+$/);
      expect((await t.api('DELETE', '/v1/users/me', { token })).status).toBe(204);
      const tw = await t.api('POST', '/v1/tweets', { token, body: { text: 'still here?' } });
      expect(tw.status).toBe(201);
      expect(tw.body.author.id).not.toBe(first.body.id);
    } finally {
      await t.close();
      await idp.close();
    }
  });
});
