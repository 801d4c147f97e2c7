import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Database } from '../db/database.ts';
import { uniqueViolation } from '../db/database.ts';
import { FlockError } from '../errors.ts';
import type { IdGenerator } from '../ids.ts';
import type { Principal } from '../http/route.ts';
import type { TokenVerifier } from './token-verifier.ts';
import { RESERVED_HANDLES } from '../routes/schemas.ts';

export interface ExternalIssuer {
  jwksUrl: string;
  issuer: string;
  audience: string;
}

/** A handle derived from the identity provider's claims: [A-Za-z0-9_], 1–15 characters. */
export function handleFromClaims(p: JWTPayload): string {
  const raw = [p.preferred_username, p['cognito:username'], p.nickname, typeof p.email === 'string' ? p.email.split('@')[0] : undefined]
    .find((v): v is string => typeof v === 'string' && v.length > 0);
  const cleaned = (raw ?? 'user').replace(/[^A-Za-z0-9_]/g, '_').slice(0, 15);
  return cleaned.length > 0 ? cleaned : 'user';
}

/**
 * Accepts access tokens of an external OpenID provider (Cognito, Auth0,
 * Keycloak) by JWKS URL, issuer and audience. The first time a subject is
 * seen, a Flock account is provisioned for it (no password; the email is only
 * taken when no local account already uses it, so a provider cannot claim an
 * existing account).
 */
export class ExternalTokens implements TokenVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(
    private readonly cfg: ExternalIssuer,
    private readonly db: Database,
    private readonly ids: IdGenerator,
  ) {
    this.jwks = createRemoteJWKSet(new URL(cfg.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000 });
  }

  get issuer(): string {
    return this.cfg.issuer;
  }

  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, { issuer: this.cfg.issuer, audience: this.cfg.audience }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new FlockError('FLOCK_ERR_TOKEN_EXPIRED');
      if (err instanceof joseErrors.JWKSTimeout) throw new FlockError('FLOCK_ERR_UNAVAILABLE', 'The identity provider did not answer');
      throw new FlockError('FLOCK_ERR_UNAUTHORIZED', 'The access token is not valid');
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new FlockError('FLOCK_ERR_UNAUTHORIZED', 'The token has no subject');
    const subject = `${this.cfg.issuer} ${payload.sub}`;
    // Looked up on every request (a unique index), so a deleted account is re-provisioned, never half-alive.
    return { userId: await this.provision(subject, payload), sessionId: null };
  }

  private async provision(subject: string, p: JWTPayload): Promise<string> {
    const existing = await this.db.query<{ id: string }>('SELECT id FROM users WHERE external_subject = $1', [subject]);
    if (existing[0]) return existing[0].id;
    const base = handleFromClaims(p);
    const email = typeof p.email === 'string' ? p.email : null;
    const name = typeof p.name === 'string' ? p.name.slice(0, 50) : base;
    const reserved = RESERVED_HANDLES.has(base.toLowerCase());
    for (let attempt = 0; attempt < 8; attempt++) {
      const suffix = attempt === 0 && !reserved ? '' : String(Math.floor(Math.random() * 10 ** 4));
      const handle = base.slice(0, 15 - suffix.length) + suffix;
      const id = this.ids.next();
      try {
        const rows = await this.db.query<{ id: string }>(
          `INSERT INTO users (id, handle, email, external_subject, name)
           VALUES ($1, $2, (SELECT $3::text WHERE NOT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($3::text))), $4, $5)
           ON CONFLICT (external_subject) DO UPDATE SET external_subject = EXCLUDED.external_subject RETURNING id`,
          [id, handle, email, subject, name],
        );
        return rows[0]!.id;
      } catch (err) {
        const c = uniqueViolation(err);
        if (c === null) throw err;
        // handle (or, in a race, email) taken: try another suffix
      }
    }
    throw new FlockError('FLOCK_ERR_INTERNAL', 'Could not provision an account for this identity');
  }
}
