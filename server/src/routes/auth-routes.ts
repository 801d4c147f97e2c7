import { z } from 'zod';
import { hashPassword, verifyPassword } from '../auth/passwords.ts';
import type { FlockTokens } from '../auth/flock-tokens.ts';
import type { SigningKeys } from '../auth/signing-keys.ts';
import type { DomainDeps } from '../domain/deps.ts';
import type { UserService } from '../domain/users.ts';
import { conflictFromUnique } from '../domain/users.ts';
import { FlockError } from '../errors.ts';
import { noContent, ok, route, type Route } from '../http/route.ts';
import type { RateRule } from '../rate-limit/rate-limiter.ts';
import { email, graphemeText, newHandle, password } from './schemas.ts';

const registerBody = z.strictObject({ handle: newHandle, email, password, name: graphemeText(50, 0).optional() });
const loginBody = z
  .strictObject({ handle: z.string().min(1).max(254).optional(), email: z.string().min(1).max(254).optional(), password: z.string().min(1).max(128) })
  .refine((b) => (b.handle === undefined) !== (b.email === undefined), 'give exactly one of handle or email');
const refreshBody = z.strictObject({ refreshToken: z.string().min(1).max(200) });
const logoutBody = z.strictObject({ refreshToken: z.string().min(1).max(200).optional() });

export interface AuthDeps extends DomainDeps {
  tokens: FlockTokens;
  keys: SigningKeys;
  users: UserService;
}

// A valid hash to verify against when the account does not exist, so timing does not reveal which accounts exist.
let dummyHash: Promise<string> | null = null;

export function authRoutes(d: AuthDeps): Route[] {
  const limit = async (key: string, rule: RateRule, what: string): Promise<void> => {
    const r = await d.limiter.hit(key, rule);
    if (!r.allowed) {
      throw new FlockError('FLOCK_ERR_RATE_LIMITED', `Too many ${what}; retry later`, undefined, {
        'retry-after': String(Math.max(1, Math.ceil(r.retryAfterMs / 1000))),
      });
    }
  };
  const issue = async (userId: string, status: number) => {
    const tokens = await d.tokens.openSession(userId);
    return ok({ user: await d.users.me(userId), ...tokens }, status);
  };

  return [
    route({
      method: 'POST',
      path: '/v1/auth/register',
      tag: 'auth',
      summary: 'Create an account and log in',
      auth: 'none',
      body: registerBody,
      responses: { 201: 'The new account and its tokens', 400: 'Invalid body', 409: 'Handle or email taken', 429: 'Too many registrations' },
      handler: async ({ body, req }) => {
        await limit(`register:ip:${req.ip}`, d.config.RATE_REGISTER_PER_IP, 'registrations from this address');
        const id = d.ids.next();
        const hash = await hashPassword(body.password, d.config.PASSWORD_SCRYPT_COST);
        try {
          await d.db.query('INSERT INTO users (id, handle, email, password_hash, name) VALUES ($1, $2, $3, $4, $5)', [
            id,
            body.handle,
            body.email,
            hash,
            body.name ?? body.handle,
          ]);
        } catch (err) {
          conflictFromUnique(err);
        }
        return issue(id, 201);
      },
    }),
    route({
      method: 'POST',
      path: '/v1/auth/login',
      tag: 'auth',
      summary: 'Log in with handle or email and password',
      auth: 'none',
      body: loginBody,
      responses: { 200: 'The account and fresh tokens', 401: 'Wrong credentials', 429: 'Too many attempts' },
      handler: async ({ body, req }) => {
        const account = (body.handle ?? body.email ?? '').toLowerCase();
        await limit(`login:ip:${req.ip}`, d.config.RATE_LOGIN_PER_IP, 'login attempts from this address');
        await limit(`login:acct:${account}`, d.config.RATE_LOGIN_PER_ACCOUNT, 'login attempts for this account');
        const [row] = await d.db.query<{ id: string; password_hash: string | null }>(
          body.handle !== undefined
            ? 'SELECT id, password_hash FROM users WHERE lower(handle) = lower($1)'
            : 'SELECT id, password_hash FROM users WHERE lower(email) = lower($1)',
          [account],
        );
        dummyHash ??= hashPassword('not a password', d.config.PASSWORD_SCRYPT_COST);
        const good = await verifyPassword(body.password, row?.password_hash ?? (await dummyHash));
        if (!row || !row.password_hash || !good) throw new FlockError('FLOCK_ERR_INVALID_CREDENTIALS');
        return issue(row.id, 200);
      },
    }),
    route({
      method: 'POST',
      path: '/v1/auth/refresh',
      tag: 'auth',
      summary: 'Trade a refresh token for a new pair (the old one is spent; reusing it revokes the session)',
      auth: 'none',
      body: refreshBody,
      responses: { 200: 'New tokens', 401: 'Invalid, expired, spent or revoked refresh token' },
      handler: async ({ body }) => {
        const next = await d.tokens.rotate(body.refreshToken);
        return ok({ user: await d.users.me(next.userId), accessToken: next.accessToken, refreshToken: next.refreshToken, expiresIn: next.expiresIn });
      },
    }),
    route({
      method: 'POST',
      path: '/v1/auth/logout',
      tag: 'auth',
      summary: "Revoke the caller's session (and the refresh token's, if given); its tokens stop working at once",
      auth: 'required',
      body: logoutBody.optional(),
      responses: { 204: 'Logged out', 401: 'Not authenticated' },
      handler: async ({ principal, body }) => {
        const sessions = new Set<string>();
        if (principal.sessionId) sessions.add(principal.sessionId);
        if (body?.refreshToken) {
          const s = await d.tokens.sessionOfRefreshToken(body.refreshToken, principal.userId);
          if (s) sessions.add(s);
        }
        for (const s of sessions) {
          const owner = await d.tokens.revokeSession(s, 'logout');
          if (owner) d.events.emit('session:revoked', { userId: owner, sessionId: s });
        }
        return noContent();
      },
    }),
    route({
      method: 'GET',
      path: '/.well-known/jwks.json',
      tag: 'auth',
      summary: 'Public keys that verify Flock access tokens',
      auth: 'none',
      responses: { 200: 'JSON Web Key Set' },
      handler: async () => ({ status: 200, headers: { 'cache-control': 'public, max-age=300' }, body: d.keys.jwks() }),
    }),
  ];
}
