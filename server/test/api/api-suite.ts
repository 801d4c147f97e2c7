import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertService, postgresAvailable } from '../support/services.ts';
import { startTestGateway, type Api, type Storage, type TestGateway, type TestUser, type TransportName } from '../support/test-gateway.ts';

const FAMILY = '👨‍👩‍👧‍👦';

function expectError(r: { status: number; body: any; text: string }, status: number, code: string): void {
  expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });
  expect(typeof r.body.error.message).toBe('string');
  expect(r.text).not.toMatch(/\bat .+\.(ts|js):\d+/); // never a stack trace
}

/**
 * The HTTP API contract of DESIGN §3, run against one storage and one transport.
 * Every route is exercised with good input and with the nasty cases.
 */
export function defineApiSuite(storage: Storage, transport: TransportName): void {
  const pgUp = storage === 'postgres' ? postgresAvailable() : Promise.resolve(true);

  describe(`HTTP API on ${storage} over ${transport}`, async () => {
    const available = await pgUp;
    describe('with its services', () => {
      let t: TestGateway;
      let api: Api;
      let alice: TestUser;
      let bob: TestUser;
      let carol: TestUser;

      beforeAll(async () => {
        if (storage === 'postgres') assertService('postgres', available);
        t = await startTestGateway(storage, transport);
        api = t.api;
        [alice, bob, carol] = [await t.register('ali'), await t.register('bob'), await t.register('car')];
      });
      afterAll(async () => {
        await t?.close();
      });

      it('serves on the requested transport and says so in /metrics', async () => {
        expect(t.gw.transport.name).toBe(transport);
        const m = await api('GET', '/metrics');
        expect(m.status).toBe(200);
        expect(m.text).toMatch(new RegExp(`flock_http_transport_info\\{transport="${transport}",fallback="false"`));
        expect(m.text).toContain('nodejs_eventloop_lag_seconds');
      });

      describe('operations', () => {
        it('healthz and readyz answer 200 with the storage checked', async () => {
          expect((await api('GET', '/healthz')).body).toEqual({ status: 'ok' });
          const r = await api('GET', '/readyz');
          expect(r.status).toBe(200);
          expect(r.body.checks).toEqual({ [storage]: 'ok' });
        });

        it('publishes an OpenAPI document covering every route', async () => {
          const r = await api('GET', '/openapi.json');
          expect(r.status).toBe(200);
          expect(r.body.openapi).toBe('3.1.0');
          expect(Object.keys(r.body.paths)).toEqual(
            expect.arrayContaining(['/v1/auth/register', '/v1/tweets/{id}', '/v1/users/{handle}/follow', '/v1/timeline/home', '/v1/notifications/read']),
          );
          const body = r.body.paths['/v1/tweets'].post.requestBody.content['application/json'].schema;
          expect(body.required).toEqual(['text']);
          expect(body.additionalProperties).toBe(false);
        });

        it('answers unknown routes with 404 JSON and wrong methods with 405 and Allow', async () => {
          expectError(await api('GET', '/v1/nope'), 404, 'FLOCK_ERR_ROUTE_NOT_FOUND');
          const r = await api('PUT', '/v1/tweets', { token: alice.accessToken, body: { text: 'x' } });
          expectError(r, 405, 'FLOCK_ERR_METHOD_NOT_ALLOWED');
          expect(r.headers.get('allow')).toBe('POST');
        });

        it('answers CORS preflight requests', async () => {
          const r = await api('OPTIONS', '/v1/tweets', { headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
          expect(r.status).toBe(204);
          expect(r.headers.get('access-control-allow-origin')).toBe('*');
          expect(r.headers.get('access-control-allow-headers')).toContain('authorization');
        });
      });

      describe('bad input', () => {
        it('rejects malformed JSON with 400 and changes nothing', async () => {
          const r = await api('POST', '/v1/tweets', { token: alice.accessToken, raw: '{"text": "hi"', headers: { 'content-type': 'application/json' } });
          expectError(r, 400, 'FLOCK_ERR_BAD_JSON');
          const tl = await api('GET', `/v1/users/${alice.handle}/tweets`);
          expect(tl.body.items).toEqual([]);
        });

        it('rejects a body that is not JSON by content type with 415', async () => {
          expectError(
            await api('POST', '/v1/tweets', { token: alice.accessToken, raw: 'text=hi', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
            415,
            'FLOCK_ERR_UNSUPPORTED_MEDIA_TYPE',
          );
        });

        it('rejects missing bodies, missing, extra and wrongly typed fields with details', async () => {
          expectError(await api('POST', '/v1/tweets', { token: alice.accessToken }), 400, 'FLOCK_ERR_VALIDATION');
          expectError(await api('POST', '/v1/tweets', { token: alice.accessToken, body: {} }), 400, 'FLOCK_ERR_VALIDATION');
          const extra = await api('POST', '/v1/tweets', { token: alice.accessToken, body: { text: 'hi', admin: true } });
          expectError(extra, 400, 'FLOCK_ERR_VALIDATION');
          expect(JSON.stringify(extra.body.error.details)).toContain('admin');
          const wrong = await api('POST', '/v1/tweets', { token: alice.accessToken, body: { text: 42 } });
          expectError(wrong, 400, 'FLOCK_ERR_VALIDATION');
          expect(wrong.body.error.details[0].path).toBe('text');
          expectError(await api('POST', '/v1/tweets', { token: alice.accessToken, body: [1, 2] }), 400, 'FLOCK_ERR_VALIDATION');
          expectError(await api('POST', '/v1/tweets', { token: alice.accessToken, body: null }), 400, 'FLOCK_ERR_VALIDATION');
        });

        it('rejects NUL characters in any text field with 400, never a 500', async () => {
          for (const [method, path, body] of [
            ['POST', '/v1/tweets', { text: 'a\u0000b' }],
            ['PATCH', '/v1/users/me', { bio: 'x\u0000' }],
            ['POST', '/v1/auth/login', { handle: 'a\u0000', password: 'whatever1' }],
            ['POST', '/v1/auth/login', { email: 'a@b.c\u0000', password: 'whatever1' }],
          ] as const) {
            expectError(await api(method, path, { token: alice.accessToken, body }), 400, 'FLOCK_ERR_VALIDATION');
          }
          // A literal backslash-u sequence is ordinary text.
          const ok = await api('POST', '/v1/tweets', { token: carol.accessToken, body: { text: 'escape: \\u0000' } });
          expect(ok.status).toBe(201);
          expect(ok.body.text).toBe('escape: \\u0000');
          await api('DELETE', `/v1/tweets/${ok.body.id}`, { token: carol.accessToken });
        });

        it('rejects bodies over the limit with 413 and nothing stored', async () => {
          const r = await api('POST', '/v1/tweets', { token: alice.accessToken, body: { text: 'x'.repeat(70 * 1024) } });
          expectError(r, 413, 'FLOCK_ERR_PAYLOAD_TOO_LARGE');
          expect((await api('GET', `/v1/users/${alice.handle}/tweets`)).body.items).toEqual([]);
          // The server is still fine afterwards.
          expect((await api('GET', '/healthz')).status).toBe(200);
        });

        it('rejects bad path parameters and query values with 400', async () => {
          expectError(await api('GET', '/v1/tweets/abc'), 400, 'FLOCK_ERR_VALIDATION');
          expectError(await api('GET', '/v1/tweets/99999999999999999999'), 400, 'FLOCK_ERR_VALIDATION');
          expectError(await api('GET', '/v1/users/not-a-handle!'), 400, 'FLOCK_ERR_VALIDATION');
          expectError(await api('GET', '/v1/users/%E0%A4%A'), 400, 'FLOCK_ERR_VALIDATION');
          expectError(await api('GET', '/v1/timeline/home?limit=1000', { token: alice.accessToken }), 400, 'FLOCK_ERR_VALIDATION');
          expectError(await api('GET', '/v1/timeline/home?limit=0', { token: alice.accessToken }), 400, 'FLOCK_ERR_VALIDATION');
          expectError(await api('GET', '/v1/timeline/home?cursor=x', { token: alice.accessToken }), 400, 'FLOCK_ERR_VALIDATION');
        });

        it('requires a bearer token on writes and refuses malformed ones', async () => {
          expectError(await api('POST', '/v1/tweets', { body: { text: 'hi' } }), 401, 'FLOCK_ERR_UNAUTHORIZED');
          expectError(await api('GET', '/v1/timeline/home', { headers: { authorization: 'Basic abc' } }), 401, 'FLOCK_ERR_UNAUTHORIZED');
          expectError(await api('GET', '/v1/timeline/home', { token: 'not.a.jwt' }), 401, 'FLOCK_ERR_UNAUTHORIZED');
          expectError(await api('GET', '/v1/timeline/home', { token: `${alice.accessToken.slice(0, -4)}AAAA` }), 401, 'FLOCK_ERR_UNAUTHORIZED');
          // A bad token on a public read is refused too, rather than silently ignored.
          expectError(await api('GET', `/v1/users/${bob.handle}`, { token: 'garbage' }), 401, 'FLOCK_ERR_UNAUTHORIZED');
        });
      });

      describe('auth', () => {
        it('registers with a 201, the account and a token pair', async () => {
          const r = await api('POST', '/v1/auth/register', {
            body: { handle: `New_${alice.handle.slice(3)}`, email: `New.${alice.email}`, password: 'long enough pw', name: 'Newbie' },
          });
          expect(r.status).toBe(201);
          expect(r.body.user).toMatchObject({ name: 'Newbie', bio: '', counts: { followers: 0, following: 0, tweets: 0 } });
          expect(r.body.user.id).toMatch(/^\d+$/);
          expect(r.body.user.email).toBe(`New.${alice.email}`);
          expect(r.body.user).not.toHaveProperty('passwordHash');
          expect(r.body.expiresIn).toBe(900);
          expect(typeof r.body.refreshToken).toBe('string');
        });

        it('refuses duplicate handles (case-insensitive) and emails with 409', async () => {
          expectError(
            await api('POST', '/v1/auth/register', { body: { handle: alice.handle.toUpperCase(), email: 'other@example.test', password: 'long enough pw' } }),
            409,
            'FLOCK_ERR_HANDLE_TAKEN',
          );
          expectError(
            await api('POST', '/v1/auth/register', { body: { handle: 'zz_unique_1', email: alice.email.toUpperCase(), password: 'long enough pw' } }),
            409,
            'FLOCK_ERR_EMAIL_TAKEN',
          );
        });

        it('validates handle, email, password and name', async () => {
          const bad = [
            { handle: 'has space', email: 'a1@example.test', password: 'long enough pw' },
            { handle: 'x'.repeat(16), email: 'a2@example.test', password: 'long enough pw' },
            { handle: '', email: 'a3@example.test', password: 'long enough pw' },
            { handle: 'me', email: 'a4@example.test', password: 'long enough pw' },
            { handle: 'okhandle1', email: 'not-an-email', password: 'long enough pw' },
            { handle: 'okhandle2', email: 'a5@example.test', password: 'short' },
            { handle: 'okhandle3', email: 'a6@example.test', password: 'long enough pw', name: 'n'.repeat(51) },
            { handle: 'okhandle4', email: 'a7@example.test' },
          ];
          for (const body of bad) expectError(await api('POST', '/v1/auth/register', { body }), 400, 'FLOCK_ERR_VALIDATION');
          expect((await api('GET', '/v1/users/okhandle1')).status).toBe(404);
        });

        it('logs in by handle or email, case-insensitively', async () => {
          const byHandle = await api('POST', '/v1/auth/login', { body: { handle: bob.handle.toUpperCase(), password: bob.password } });
          expect(byHandle.status).toBe(200);
          expect(byHandle.body.user.id).toBe(bob.id);
          const byEmail = await api('POST', '/v1/auth/login', { body: { email: bob.email.toUpperCase(), password: bob.password } });
          expect(byEmail.status).toBe(200);
          expect((await api('GET', '/v1/users/me', { token: byEmail.body.accessToken })).body.handle).toBe(bob.handle);
        });

        it('refuses wrong passwords and unknown accounts alike with 401', async () => {
          expectError(await api('POST', '/v1/auth/login', { body: { handle: bob.handle, password: 'wrong password' } }), 401, 'FLOCK_ERR_INVALID_CREDENTIALS');
          expectError(await api('POST', '/v1/auth/login', { body: { handle: 'nobody_here', password: 'whatever1' } }), 401, 'FLOCK_ERR_INVALID_CREDENTIALS');
          expectError(await api('POST', '/v1/auth/login', { body: { handle: bob.handle, email: bob.email, password: bob.password } }), 400, 'FLOCK_ERR_VALIDATION');
          expectError(await api('POST', '/v1/auth/login', { body: { password: bob.password } }), 400, 'FLOCK_ERR_VALIDATION');
        });

        it('signs access tokens with a kid published in the JWKS', async () => {
          const jwks = await api('GET', '/.well-known/jwks.json');
          expect(jwks.status).toBe(200);
          const { kid, alg } = decodeProtectedHeader(alice.accessToken);
          expect(alg).toBe('EdDSA');
          expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toContain(kid);
          expect(JSON.stringify(jwks.body)).not.toMatch(/"d":/); // no private parts
          const { payload } = await jwtVerify(alice.accessToken, createLocalJWKSet(jwks.body), { issuer: 'flock', audience: 'flock' });
          expect(payload.sub).toBe(alice.id);
          expect(payload.exp! - payload.iat!).toBe(900);
        });

        it('rotates refresh tokens, and reuse of a spent one revokes the whole family', async () => {
          const u = await t.register('rot');
          const first = await api('POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } });
          expect(first.status).toBe(200);
          expect(first.body.refreshToken).not.toBe(u.refreshToken);
          expect(first.body.user.id).toBe(u.id);
          // The old access token and the new one both work for now.
          expect((await api('GET', '/v1/timeline/home', { token: first.body.accessToken })).status).toBe(200);
          // Replaying the spent token: refused, and the family is revoked.
          expectError(await api('POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } }), 401, 'FLOCK_ERR_REFRESH_INVALID');
          expectError(await api('POST', '/v1/auth/refresh', { body: { refreshToken: first.body.refreshToken } }), 401, 'FLOCK_ERR_REFRESH_INVALID');
          expectError(await api('GET', '/v1/timeline/home', { token: first.body.accessToken }), 401, 'FLOCK_ERR_UNAUTHORIZED');
          // Other sessions of the same user are untouched.
          const again = await api('POST', '/v1/auth/login', { body: { handle: u.handle, password: u.password } });
          expect((await api('GET', '/v1/timeline/home', { token: again.body.accessToken })).status).toBe(200);
          expectError(await api('POST', '/v1/auth/refresh', { body: { refreshToken: 'made-up' } }), 401, 'FLOCK_ERR_REFRESH_INVALID');
        });

        it('logout revokes the session at once: access and refresh tokens stop working', async () => {
          const u = await t.register('out');
          const other = await api('POST', '/v1/auth/login', { body: { handle: u.handle, password: u.password } });
          const r = await api('POST', '/v1/auth/logout', { token: u.accessToken });
          expect(r.status).toBe(204);
          expectError(await api('GET', '/v1/timeline/home', { token: u.accessToken }), 401, 'FLOCK_ERR_UNAUTHORIZED');
          expectError(await api('POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } }), 401, 'FLOCK_ERR_REFRESH_INVALID');
          expect((await api('GET', '/v1/timeline/home', { token: other.body.accessToken })).status).toBe(200);
        });

        it("logout cannot revoke another user's session through its refresh token", async () => {
          const victim = await t.register('vic');
          const r = await api('POST', '/v1/auth/logout', { token: carol.accessToken, body: { refreshToken: victim.refreshToken } });
          // carol's own session ends; the victim's does not
          expect(r.status).toBe(204);
          expect((await api('POST', '/v1/auth/refresh', { body: { refreshToken: victim.refreshToken } })).status).toBe(200);
          const back = await api('POST', '/v1/auth/login', { body: { handle: carol.handle, password: carol.password } });
          carol = { ...carol, accessToken: back.body.accessToken, refreshToken: back.body.refreshToken };
        });
      });

      describe('users and profiles', () => {
        it('shows a public profile and 404 for unknown handles', async () => {
          const r = await api('GET', `/v1/users/${alice.handle.toUpperCase()}`);
          expect(r.status).toBe(200);
          expect(r.body).toMatchObject({ id: alice.id, handle: alice.handle, avatarUrl: null, counts: { tweets: expect.any(Number) } });
          expect(r.body).not.toHaveProperty('email');
          expect(r.body).not.toHaveProperty('isFollowing');
          expectError(await api('GET', '/v1/users/nobody_at_all'), 404, 'FLOCK_ERR_NOT_FOUND');
        });

        it('updates your own profile and validates every field', async () => {
          const u = await t.register('pro');
          const r = await api('PATCH', '/v1/users/me', {
            token: u.accessToken,
            body: {
              name: 'Pro Name',
              bio: `${FAMILY} builds things`,
              avatarUrl: 'https://cdn.example/a.png',
              bannerUrl: null,
              website: 'https://example.com',
              location: 'Lisbon',
              birthDate: '1990-02-28',
            },
          });
          expect(r.status).toBe(200);
          expect(r.body).toMatchObject({ name: 'Pro Name', avatarUrl: 'https://cdn.example/a.png', location: 'Lisbon', birthDate: '1990-02-28', email: u.email });
          expect((await api('GET', `/v1/users/${u.handle}`)).body.bio).toBe(`${FAMILY} builds things`);
          const bad = [
            {},
            { avatarUrl: 'javascript:alert(1)' },
            { website: 'not a url' },
            { birthDate: '2999-01-01' },
            { birthDate: '1990-02-30' },
            { bio: 'b'.repeat(161) },
            { location: 'l'.repeat(31) },
            { handle: 'bad handle' },
            { name: 5 },
            { password: 'newpassword' },
          ];
          for (const body of bad) expectError(await api('PATCH', '/v1/users/me', { token: u.accessToken, body }), 400, 'FLOCK_ERR_VALIDATION');
          expectError(await api('PATCH', '/v1/users/me', { token: u.accessToken, body: { handle: alice.handle.toLowerCase() } }), 409, 'FLOCK_ERR_HANDLE_TAKEN');
          expectError(await api('PATCH', '/v1/users/me', { token: u.accessToken, body: { email: alice.email } }), 409, 'FLOCK_ERR_EMAIL_TAKEN');
          expect((await api('GET', '/v1/users/me', { token: u.accessToken })).body.name).toBe('Pro Name');
          const renamed = await api('PATCH', '/v1/users/me', { token: u.accessToken, body: { handle: `P${u.handle.slice(1)}x`.slice(0, 15) } });
          expect(renamed.status).toBe(200);
          expect((await api('GET', `/v1/users/${renamed.body.handle}`)).body.id).toBe(u.id);
        });

        it('deletes an account with everything it owns and fixes the counters of others', async () => {
          const gone = await t.register('del');
          const host = await t.register('hst');
          const tw = await api('POST', '/v1/tweets', { token: host.accessToken, body: { text: 'host tweet' } });
          await api('PUT', `/v1/users/${host.handle}/follow`, { token: gone.accessToken });
          await api('PUT', `/v1/users/${gone.handle}/follow`, { token: host.accessToken });
          await api('PUT', `/v1/tweets/${tw.body.id}/reactions/like`, { token: gone.accessToken });
          await api('POST', `/v1/tweets/${tw.body.id}/comments`, { token: gone.accessToken, body: { text: 'bye' } });
          const own = await api('POST', '/v1/tweets', { token: gone.accessToken, body: { text: 'mine', replyTo: tw.body.id } });
          expect((await api('GET', `/v1/tweets/${tw.body.id}`)).body.counts).toEqual({ likes: 1, reposts: 0, comments: 1, replies: 1 });

          expect((await api('DELETE', '/v1/users/me', { token: gone.accessToken })).status).toBe(204);
          expectError(await api('GET', `/v1/users/${gone.handle}`), 404, 'FLOCK_ERR_NOT_FOUND');
          expectError(await api('GET', `/v1/tweets/${own.body.id}`), 404, 'FLOCK_ERR_NOT_FOUND');
          expectError(await api('GET', '/v1/timeline/home', { token: gone.accessToken }), 401, 'FLOCK_ERR_UNAUTHORIZED');
          expectError(await api('POST', '/v1/auth/login', { body: { handle: gone.handle, password: gone.password } }), 401, 'FLOCK_ERR_INVALID_CREDENTIALS');
          expect((await api('GET', `/v1/users/${host.handle}`)).body.counts).toEqual({ followers: 0, following: 0, tweets: 1 });
          expect((await api('GET', `/v1/tweets/${tw.body.id}`)).body.counts).toEqual({ likes: 0, reposts: 0, comments: 0, replies: 0 });
          expect((await api('GET', `/v1/tweets/${tw.body.id}/comments`)).body.items).toEqual([]);
          // The handle and email are free again.
          expect((await api('POST', '/v1/auth/register', { body: { handle: gone.handle, email: gone.email, password: gone.password } })).status).toBe(201);
        });
      });

      describe('follows', () => {
        it('follows idempotently, counts once, and lists both directions newest first', async () => {
          const a = await t.register('fa');
          const b = await t.register('fb');
          const c = await t.register('fc');
          for (let i = 0; i < 2; i++) {
            const r = await api('PUT', `/v1/users/${b.handle}/follow`, { token: a.accessToken });
            expect(r.status).toBe(200);
            expect(r.body).toEqual({ following: true });
          }
          await api('PUT', `/v1/users/${b.handle}/follow`, { token: c.accessToken });
          await api('PUT', `/v1/users/${c.handle}/follow`, { token: a.accessToken });
          expect((await api('GET', `/v1/users/${b.handle}`)).body.counts.followers).toBe(2);
          expect((await api('GET', `/v1/users/${a.handle}`)).body.counts.following).toBe(2);
          expect((await api('GET', `/v1/users/${b.handle}`, { token: a.accessToken })).body.isFollowing).toBe(true);
          expect((await api('GET', `/v1/users/${a.handle}`, { token: b.accessToken })).body.isFollowing).toBe(false);

          const p1 = await api('GET', `/v1/users/${b.handle}/followers?limit=1`);
          expect(p1.body.items.map((u: { handle: string }) => u.handle)).toEqual([c.handle]);
          expect(p1.body.next).toEqual(expect.any(String));
          const p2 = await api('GET', `/v1/users/${b.handle}/followers?limit=1&cursor=${p1.body.next}`);
          expect(p2.body.items.map((u: { handle: string }) => u.handle)).toEqual([a.handle]);
          expect(p2.body.next).toBeNull();
          const following = await api('GET', `/v1/users/${a.handle}/following`);
          expect(following.body.items.map((u: { handle: string }) => u.handle)).toEqual([c.handle, b.handle]);

          for (let i = 0; i < 2; i++) {
            const r = await api('DELETE', `/v1/users/${b.handle}/follow`, { token: a.accessToken });
            expect(r.body).toEqual({ following: false });
          }
          expect((await api('GET', `/v1/users/${b.handle}`)).body.counts.followers).toBe(1);
        });

        it('refuses following yourself, unknown users, and anonymous follows', async () => {
          expectError(await api('PUT', `/v1/users/${alice.handle}/follow`, { token: alice.accessToken }), 400, 'FLOCK_ERR_VALIDATION');
          expectError(await api('PUT', '/v1/users/ghost_user/follow', { token: alice.accessToken }), 404, 'FLOCK_ERR_NOT_FOUND');
          expectError(await api('PUT', `/v1/users/${bob.handle}/follow`), 401, 'FLOCK_ERR_UNAUTHORIZED');
          expectError(await api('GET', '/v1/users/ghost_user/followers'), 404, 'FLOCK_ERR_NOT_FOUND');
        });
      });

      describe('tweets', () => {
        it('counts text in grapheme clusters: 280 family emojis fit, 281 do not', async () => {
          const ok = await api('POST', '/v1/tweets', { token: bob.accessToken, body: { text: FAMILY.repeat(280) } });
          expect(ok.status).toBe(201);
          expect(ok.body.text).toBe(FAMILY.repeat(280));
          expectError(await api('POST', '/v1/tweets', { token: bob.accessToken, body: { text: FAMILY.repeat(281) } }), 400, 'FLOCK_ERR_VALIDATION');
          const mixed = 'e\u0301'.repeat(140) + '漢'.repeat(140);
          expect((await api('POST', '/v1/tweets', { token: bob.accessToken, body: { text: mixed } })).status).toBe(201);
          expectError(await api('POST', '/v1/tweets', { token: bob.accessToken, body: { text: `${mixed}x` } }), 400, 'FLOCK_ERR_VALIDATION');
          expectError(await api('POST', '/v1/tweets', { token: bob.accessToken, body: { text: ' \n\t ' } }), 400, 'FLOCK_ERR_VALIDATION');
          const trimmed = await api('POST', '/v1/tweets', { token: bob.accessToken, body: { text: `  ${'a'.repeat(280)}  ` } });
          expect(trimmed.status).toBe(201);
          expect(trimmed.body.text).toBe('a'.repeat(280));
        });

        it('creates, reads, edits and deletes; only the author may change a tweet', async () => {
          const c = await api('POST', '/v1/tweets', { token: alice.accessToken, body: { text: 'hello flock' } });
          expect(c.status).toBe(201);
          expect(c.body).toMatchObject({
            text: 'hello flock',
            replyTo: null,
            editedAt: null,
            author: { id: alice.id, handle: alice.handle, name: expect.any(String), avatarUrl: null },
            counts: { likes: 0, reposts: 0, comments: 0, replies: 0 },
          });
          expect(Date.parse(c.body.createdAt)).toBeGreaterThan(Date.now() - 60_000);
          expect((await api('GET', `/v1/tweets/${c.body.id}`)).body).toEqual(c.body);

          expectError(await api('PATCH', `/v1/tweets/${c.body.id}`, { token: bob.accessToken, body: { text: 'hijack' } }), 403, 'FLOCK_ERR_FORBIDDEN');
          expectError(await api('DELETE', `/v1/tweets/${c.body.id}`, { token: bob.accessToken }), 403, 'FLOCK_ERR_FORBIDDEN');
          expect((await api('GET', `/v1/tweets/${c.body.id}`)).body.text).toBe('hello flock');

          const e = await api('PATCH', `/v1/tweets/${c.body.id}`, { token: alice.accessToken, body: { text: 'hello, flock' } });
          expect(e.status).toBe(200);
          expect(e.body.text).toBe('hello, flock');
          expect(e.body.editedAt).toEqual(expect.any(String));
          expectError(await api('PATCH', `/v1/tweets/${c.body.id}`, { token: alice.accessToken, body: { text: '' } }), 400, 'FLOCK_ERR_VALIDATION');

          expect((await api('DELETE', `/v1/tweets/${c.body.id}`, { token: alice.accessToken })).status).toBe(204);
          expectError(await api('GET', `/v1/tweets/${c.body.id}`), 404, 'FLOCK_ERR_NOT_FOUND');
          expectError(await api('DELETE', `/v1/tweets/${c.body.id}`, { token: alice.accessToken }), 404, 'FLOCK_ERR_NOT_FOUND');
          expectError(await api('PATCH', `/v1/tweets/${c.body.id}`, { token: alice.accessToken, body: { text: 'zombie' } }), 404, 'FLOCK_ERR_NOT_FOUND');
          expectError(await api('GET', '/v1/tweets/123'), 404, 'FLOCK_ERR_NOT_FOUND');
        });

        it('keeps the author tweet counter and reply counter right', async () => {
          const u = await t.register('cnt');
          const root = await api('POST', '/v1/tweets', { token: u.accessToken, body: { text: 'root' } });
          const reply = await api('POST', '/v1/tweets', { token: bob.accessToken, body: { text: 'reply', replyTo: root.body.id } });
          expect(reply.body.replyTo).toBe(root.body.id);
          expect((await api('GET', `/v1/tweets/${root.body.id}`)).body.counts.replies).toBe(1);
          expect((await api('GET', `/v1/users/${u.handle}`)).body.counts.tweets).toBe(1);
          await api('DELETE', `/v1/tweets/${reply.body.id}`, { token: bob.accessToken });
          expect((await api('GET', `/v1/tweets/${root.body.id}`)).body.counts.replies).toBe(0);
          await api('DELETE', `/v1/tweets/${root.body.id}`, { token: u.accessToken });
          expect((await api('GET', `/v1/users/${u.handle}`)).body.counts.tweets).toBe(0);
          expectError(await api('POST', '/v1/tweets', { token: bob.accessToken, body: { text: 'late', replyTo: root.body.id } }), 404, 'FLOCK_ERR_NOT_FOUND');
        });

        it('counts concurrent posts and deletes by one author exactly, and replies to one parent', async () => {
          const u = await t.register('par');
          const count = async () => (await api('GET', `/v1/users/${u.handle}`)).body.counts.tweets;
          const posted = await Promise.all(
            Array.from({ length: 24 }, (_, i) => api('POST', '/v1/tweets', { token: u.accessToken, body: { text: `parallel ${i}` } })),
          );
          expect(posted.map((r) => r.status)).toEqual(Array(24).fill(201));
          expect(await count()).toBe(24);
          const gone = await Promise.all(posted.slice(0, 10).map((r) => api('DELETE', `/v1/tweets/${r.body.id}`, { token: u.accessToken })));
          expect(gone.map((r) => r.status)).toEqual(Array(10).fill(204));
          expect(await count()).toBe(14);
          // Deleting one tweet twice at once: one 204, one 404, counted once.
          const twice = await Promise.all([0, 1].map(() => api('DELETE', `/v1/tweets/${posted[10]!.body.id}`, { token: u.accessToken })));
          expect(twice.map((r) => r.status).sort()).toEqual([204, 404]);
          expect(await count()).toBe(13);
          const root = posted[11]!.body.id;
          const replies = await Promise.all(
            Array.from({ length: 12 }, (_, i) => api('POST', '/v1/tweets', { token: (i % 2 ? bob : carol).accessToken, body: { text: `re ${i}`, replyTo: root } })),
          );
          expect(replies.map((r) => r.status)).toEqual(Array(12).fill(201));
          expect((await api('GET', `/v1/tweets/${root}`)).body.counts.replies).toBe(12);
          // Every delta was folded into the stored counter after its commit.
          const [row] = await t.gw.db.query<{ tweets_count: number; pending: string }>(
            'SELECT tweets_count, (SELECT count(*) FROM tweet_count_deltas WHERE user_id = $1) AS pending FROM users WHERE id = $1',
            [u.id],
          );
          expect(row).toEqual({ tweets_count: 13, pending: '0' });
        });

        // PGlite has one connection, so only PostgreSQL can hold a lock while a post runs (these two
        // tests are defined for PostgreSQL only, not skipped on PGlite).
        if (storage === 'postgres') {
          /** Runs `sql` in a transaction left open (its locks held) until `release()`. */
          const holdInTransaction = async (sql: string, params: unknown[]) => {
            let release!: () => void;
            let locked!: () => void;
            const isLocked = new Promise<void>((r) => (locked = r));
            const holder = t.gw.db.transaction(async (tx) => {
              await tx.query(sql, params);
              locked();
              await new Promise<void>((r) => (release = r));
            });
            await isLocked;
            return async () => {
              release();
              await holder;
            };
          };
          /** Polls a `SELECT … AS n` until n is not 0 (or 5 s pass); returns the last n. */
          const pollCount = async (sql: string, params: unknown[]): Promise<number> => {
            for (let i = 0; i < 200; i++) {
              const [row] = await t.gw.db.query<{ n: number }>(sql, params);
              if (row!.n !== 0) return row!.n;
              await new Promise((r) => setTimeout(r, 25));
            }
            return 0;
          };

          it('commits a tweet while another transaction holds the author row (no counter update in the tweet transaction)', async () => {
            const u = await t.register('lck');
            // FOR SHARE blocks an UPDATE of the row (what serialized one author's tweets) but not the inserts referencing it.
            const release = await holdInTransaction('SELECT 1 FROM users WHERE id = $1 FOR SHARE', [u.id]);
            const post = api('POST', '/v1/tweets', { token: u.accessToken, body: { text: 'not waiting for the row' } });
            const committed = await pollCount('SELECT count(*)::int AS n FROM tweets WHERE author_id = $1', [u.id]);
            await release();
            expect(committed).toBe(1);
            expect((await post).status).toBe(201);
            expect((await api('GET', `/v1/users/${u.handle}`)).body.counts.tweets).toBe(1);
          });

          it('answers a post while another job of its author holds the fan-out lock in shared mode; a delete waits for it', async () => {
            const u = await t.register('adv');
            // What a batch of this author's post jobs holds (server/src/timeline/fanout-worker.ts).
            const release = await holdInTransaction('SELECT pg_advisory_xact_lock_shared(7310432, hashtext($1))', [u.id]);
            try {
              // The post's own-timeline job shares the lock: answered while it is held.
              const post = await api('POST', '/v1/tweets', { token: u.accessToken, body: { text: 'posts commute' } });
              expect(post.status).toBe(201);
              expect((await api('GET', '/v1/timeline/home', { token: u.accessToken })).body.items.map((x: { id: string }) => x.id)).toContain(post.body.id);
              // A delete's job takes it exclusively: it waits for the holder.
              const del = api('DELETE', `/v1/tweets/${post.body.id}`, { token: u.accessToken });
              const waiting = await pollCount(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = hashtext($1)::oid`, [u.id]);
              expect(waiting).toBe(1);
              await release();
              expect((await del).status).toBe(204);
            } finally {
              await release();
            }
          });
        }

        it('counts a tweet whose counter delta was never folded (a crash after the commit), and folds it with the next post', async () => {
          const u = await t.register('crs');
          await api('POST', '/v1/tweets', { token: u.accessToken, body: { text: 'before the crash' } });
          // What a crash between the commit and the fold leaves: a committed tweet whose +1 is still a delta.
          await t.gw.db.query(`INSERT INTO tweets (id, author_id, text) VALUES ('9000000000000001', $1, 'committed, not folded')`, [u.id]);
          await t.gw.db.query('INSERT INTO tweet_count_deltas (user_id, delta) VALUES ($1, 1)', [u.id]);
          expect((await api('GET', `/v1/users/${u.handle}`)).body.counts.tweets).toBe(2);
          expect((await api('GET', '/v1/users/me', { token: u.accessToken })).body.counts.tweets).toBe(2);
          await api('POST', '/v1/tweets', { token: u.accessToken, body: { text: 'after the restart' } });
          const [row] = await t.gw.db.query<{ tweets_count: number }>('SELECT tweets_count FROM users WHERE id = $1', [u.id]);
          expect(row!.tweets_count).toBe(3);
          expect((await api('GET', `/v1/users/${u.handle}`)).body.counts.tweets).toBe(3);
        });

        it("lists a user's tweets newest first with stable cursors", async () => {
          const u = await t.register('lst');
          const ids: string[] = [];
          for (let i = 0; i < 5; i++) ids.push((await api('POST', '/v1/tweets', { token: u.accessToken, body: { text: `t${i}` } })).body.id);
          const seen: string[] = [];
          let cursor: string | null = null;
          do {
            const r: any = await api('GET', `/v1/users/${u.handle}/tweets?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
            seen.push(...r.body.items.map((x: { id: string }) => x.id));
            cursor = r.body.next;
            // A tweet posted while paging does not disturb the pages after the cursor.
            if (seen.length === 2) await api('POST', '/v1/tweets', { token: u.accessToken, body: { text: 'concurrent' } });
          } while (cursor);
          expect(seen).toEqual([...ids].reverse());
          const maxId = await api('GET', `/v1/users/${u.handle}/tweets?max_id=${ids[2]}&limit=10`);
          expect(maxId.body.items.map((x: { id: string }) => x.id)).toEqual([ids[2], ids[1], ids[0]]);
        });
      });

      describe('comments', () => {
        it('comments, lists oldest first, and only the author edits or deletes', async () => {
          const tw = await api('POST', '/v1/tweets', { token: alice.accessToken, body: { text: 'discuss' } });
          const c1 = await api('POST', `/v1/tweets/${tw.body.id}/comments`, { token: bob.accessToken, body: { text: 'first' } });
          expect(c1.status).toBe(201);
          expect(c1.body).toMatchObject({ tweetId: tw.body.id, text: 'first', author: { id: bob.id }, editedAt: null });
          const c2 = await api('POST', `/v1/tweets/${tw.body.id}/comments`, { token: carol.accessToken, body: { text: 'second' } });
          expect((await api('GET', `/v1/tweets/${tw.body.id}`)).body.counts.comments).toBe(2);
          const p1 = await api('GET', `/v1/tweets/${tw.body.id}/comments?limit=1`);
          expect(p1.body.items.map((c: { id: string }) => c.id)).toEqual([c1.body.id]);
          const p2 = await api('GET', `/v1/tweets/${tw.body.id}/comments?limit=1&cursor=${p1.body.next}`);
          expect(p2.body.items.map((c: { id: string }) => c.id)).toEqual([c2.body.id]);

          expectError(await api('PATCH', `/v1/comments/${c1.body.id}`, { token: carol.accessToken, body: { text: 'x' } }), 403, 'FLOCK_ERR_FORBIDDEN');
          expectError(await api('DELETE', `/v1/comments/${c1.body.id}`, { token: alice.accessToken }), 403, 'FLOCK_ERR_FORBIDDEN');
          const e = await api('PATCH', `/v1/comments/${c1.body.id}`, { token: bob.accessToken, body: { text: 'first!' } });
          expect(e.body).toMatchObject({ text: 'first!', editedAt: expect.any(String) });
          expectError(await api('POST', `/v1/tweets/${tw.body.id}/comments`, { token: bob.accessToken, body: { text: 'x'.repeat(281) } }), 400, 'FLOCK_ERR_VALIDATION');
          expect((await api('DELETE', `/v1/comments/${c1.body.id}`, { token: bob.accessToken })).status).toBe(204);
          expectError(await api('PATCH', `/v1/comments/${c1.body.id}`, { token: bob.accessToken, body: { text: 'x' } }), 404, 'FLOCK_ERR_NOT_FOUND');
          expect((await api('GET', `/v1/tweets/${tw.body.id}`)).body.counts.comments).toBe(1);

          await api('DELETE', `/v1/tweets/${tw.body.id}`, { token: alice.accessToken });
          expectError(await api('GET', `/v1/tweets/${tw.body.id}/comments`), 404, 'FLOCK_ERR_NOT_FOUND');
          expectError(await api('POST', `/v1/tweets/${tw.body.id}/comments`, { token: bob.accessToken, body: { text: 'late' } }), 404, 'FLOCK_ERR_NOT_FOUND');
          expectError(await api('DELETE', `/v1/comments/${c2.body.id}`, { token: carol.accessToken }), 404, 'FLOCK_ERR_NOT_FOUND');
        });
      });

      describe('reactions', () => {
        it('likes and reposts once per user, idempotently, and lists who reacted', async () => {
          const tw = await api('POST', '/v1/tweets', { token: alice.accessToken, body: { text: 'react to me' } });
          for (let i = 0; i < 2; i++) {
            const r = await api('PUT', `/v1/tweets/${tw.body.id}/reactions/like`, { token: bob.accessToken });
            expect(r.status).toBe(200);
            expect(r.body).toMatchObject({ counts: { like: 1, repost: 0 }, mine: ['like'] });
          }
          await api('PUT', `/v1/tweets/${tw.body.id}/reactions/repost`, { token: bob.accessToken });
          await api('PUT', `/v1/tweets/${tw.body.id}/reactions/like`, { token: carol.accessToken });
          expect((await api('GET', `/v1/tweets/${tw.body.id}`)).body.counts).toMatchObject({ likes: 2, reposts: 1 });
          const list = await api('GET', `/v1/tweets/${tw.body.id}/reactions`, { token: bob.accessToken });
          expect(list.body).toMatchObject({ counts: { like: 2, repost: 1 }, mine: ['like', 'repost'] });
          expect(list.body.items.map((r: any) => `${r.user.handle}:${r.kind}`)).toEqual([`${carol.handle}:like`, `${bob.handle}:repost`, `${bob.handle}:like`]);
          const likesOnly = await api('GET', `/v1/tweets/${tw.body.id}/reactions?kind=like&limit=1`);
          expect(likesOnly.body.items).toHaveLength(1);
          expect(likesOnly.body.next).toEqual(expect.any(String));
          for (let i = 0; i < 2; i++) {
            const r = await api('DELETE', `/v1/tweets/${tw.body.id}/reactions/like`, { token: bob.accessToken });
            expect(r.body).toMatchObject({ counts: { like: 1, repost: 1 }, mine: ['repost'] });
          }
          expectError(await api('PUT', `/v1/tweets/${tw.body.id}/reactions/love`, { token: bob.accessToken }), 400, 'FLOCK_ERR_VALIDATION');
          expectError(await api('PUT', '/v1/tweets/42/reactions/like', { token: bob.accessToken }), 404, 'FLOCK_ERR_NOT_FOUND');
          expectError(await api('PUT', `/v1/tweets/${tw.body.id}/reactions/like`), 401, 'FLOCK_ERR_UNAUTHORIZED');
        });
      });

      describe('home timeline', () => {
        it('shows your tweets and those of whom you follow, newest first, and catches up with since_id', async () => {
          const reader = await t.register('rd');
          const w1 = await t.register('w1');
          const w2 = await t.register('w2');
          const stranger = await t.register('st');
          await api('PUT', `/v1/users/${w1.handle}/follow`, { token: reader.accessToken });
          await api('PUT', `/v1/users/${w2.handle}/follow`, { token: reader.accessToken });
          const post = async (u: TestUser, text: string) => (await api('POST', '/v1/tweets', { token: u.accessToken, body: { text } })).body.id as string;
          const a = await post(w1, 'a');
          await post(stranger, 'not for reader');
          const b = await post(reader, 'b');
          const c = await post(w2, 'c');
          // Followers' timelines are written after the POST answers (docs/timelines.md "Fan-out").
          await t.fanout();
          const home = await api('GET', '/v1/timeline/home', { token: reader.accessToken });
          expect(home.body.items.map((x: { id: string }) => x.id)).toEqual([c, b, a]);
          expect(home.body.next).toBeNull();

          const d = await post(w1, 'd');
          const gone = await post(w2, 'gone');
          await api('DELETE', `/v1/tweets/${gone}`, { token: w2.accessToken });
          await t.fanout();
          const catchUp = await api('GET', `/v1/timeline/home?since_id=${c}`, { token: reader.accessToken });
          expect(catchUp.body.items.map((x: { id: string }) => x.id)).toEqual([d]);

          await api('DELETE', `/v1/users/${w2.handle}/follow`, { token: reader.accessToken });
          const after = await api('GET', '/v1/timeline/home?limit=2', { token: reader.accessToken });
          expect(after.body.items.map((x: { id: string }) => x.id)).toEqual([d, b]);
          const rest = await api('GET', `/v1/timeline/home?limit=2&cursor=${after.body.next}`, { token: reader.accessToken });
          expect(rest.body.items.map((x: { id: string }) => x.id)).toEqual([a]);
          expectError(await api('GET', '/v1/timeline/home'), 401, 'FLOCK_ERR_UNAUTHORIZED');
        });
      });

      describe('notifications', () => {
        it('notifies follow, like, repost, comment and mention, never yourself, and marks read', async () => {
          const n = await t.register('nt');
          const actor = await t.register('ac');
          await api('PUT', `/v1/users/${n.handle}/follow`, { token: actor.accessToken });
          await api('PUT', `/v1/users/${n.handle}/follow`, { token: actor.accessToken }); // idempotent: one notification
          const tw = await api('POST', '/v1/tweets', { token: n.accessToken, body: { text: `mine, mentioning @${n.handle} myself` } });
          await api('PUT', `/v1/tweets/${tw.body.id}/reactions/like`, { token: actor.accessToken });
          await api('PUT', `/v1/tweets/${tw.body.id}/reactions/like`, { token: n.accessToken }); // self: none
          await api('PUT', `/v1/tweets/${tw.body.id}/reactions/repost`, { token: actor.accessToken });
          await api('POST', `/v1/tweets/${tw.body.id}/comments`, { token: actor.accessToken, body: { text: 'nice' } });
          const m = await api('POST', '/v1/tweets', { token: actor.accessToken, body: { text: `hey @${n.handle.toUpperCase()} and @nobody_x` } });

          const list = await api('GET', '/v1/notifications', { token: n.accessToken });
          expect(list.status).toBe(200);
          expect(list.body.items.map((x: any) => x.kind)).toEqual(['mention', 'comment', 'repost', 'like', 'follow']);
          expect(list.body.unread).toBe(5);
          expect(list.body.items[0]).toMatchObject({ actor: { id: actor.id, handle: actor.handle }, tweetId: m.body.id, readAt: null });
          expect(list.body.items[4]).not.toHaveProperty('tweetId');

          const oldest = list.body.items[4].id;
          const after = await api('GET', `/v1/notifications?after=${oldest}&limit=2`, { token: n.accessToken });
          expect(after.body.items.map((x: any) => x.kind)).toEqual(['like', 'repost']);
          const after2 = await api('GET', `/v1/notifications?after=${oldest}&limit=2&cursor=${after.body.next}`, { token: n.accessToken });
          expect(after2.body.items.map((x: any) => x.kind)).toEqual(['comment', 'mention']);

          const read = await api('POST', '/v1/notifications/read', { token: n.accessToken, body: { upTo: list.body.items[1].id } });
          expect(read.body).toEqual({ marked: 4 });
          const unread = await api('GET', '/v1/notifications?unread=true', { token: n.accessToken });
          expect(unread.body.items.map((x: any) => x.kind)).toEqual(['mention']);
          expect(unread.body.unread).toBe(1);
          // Nobody else sees them.
          expect((await api('GET', '/v1/notifications', { token: actor.accessToken })).body.items).toEqual([]);
          expectError(await api('POST', '/v1/notifications/read', { token: n.accessToken, body: { upTo: 'abc' } }), 400, 'FLOCK_ERR_VALIDATION');

          // Taking a like or a follow back takes its notification back: toggling does not flood.
          for (let i = 0; i < 3; i++) {
            await api('DELETE', `/v1/tweets/${tw.body.id}/reactions/like`, { token: actor.accessToken });
            await api('PUT', `/v1/tweets/${tw.body.id}/reactions/like`, { token: actor.accessToken });
            await api('DELETE', `/v1/users/${n.handle}/follow`, { token: actor.accessToken });
            await api('PUT', `/v1/users/${n.handle}/follow`, { token: actor.accessToken });
          }
          const kinds = (await api('GET', '/v1/notifications', { token: n.accessToken })).body.items.map((x: any) => x.kind);
          expect(kinds.filter((k: string) => k === 'like')).toHaveLength(1);
          expect(kinds.filter((k: string) => k === 'follow')).toHaveLength(1);

          // A deleted tweet takes its notifications with it.
          await api('DELETE', `/v1/tweets/${m.body.id}`, { token: actor.accessToken });
          expect((await api('GET', '/v1/notifications', { token: n.accessToken })).body.items.map((x: any) => x.kind)).not.toContain('mention');
        });
      });
    });
  });
}
