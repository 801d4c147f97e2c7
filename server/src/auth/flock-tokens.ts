import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify, decodeProtectedHeader } from 'jose';
import type { Database } from '../db/database.ts';
import { FlockError } from '../errors.ts';
import type { IdGenerator } from '../ids.ts';
import type { Principal } from '../http/route.ts';
import { LocalCache } from '../cache/local-cache.ts';
import type { SessionCache } from './session-cache.ts';
import { ALG, type SigningKeys } from './signing-keys.ts';
import type { TokenVerifier } from './token-verifier.ts';

export const FLOCK_ISSUER = 'flock';
export const FLOCK_AUDIENCE = 'flock';

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

const hashToken = (t: string): string => createHash('sha256').update(t).digest('hex');

/** What a valid signature vouches for, remembered per token string until the token expires. */
interface VerifiedToken {
  userId: string;
  sessionId: string;
  kid: string;
  /** `exp` claim, seconds since the epoch. */
  exp: number;
}

/**
 * Flock's own tokens. Access: a short-lived JWT (sub = user id, sid = session
 * id) signed with the newest signing key. Refresh: an opaque random string
 * stored hashed, one use only; using a spent one revokes its whole session
 * (refresh-token family), because only a thief or a replay would do that.
 */
export class FlockTokens implements TokenVerifier {
  /**
   * Tokens whose signature and claims were verified, by token string (the whole string: the same
   * signature with another payload is another key). A signature check costs more than the rest of
   * a cached page; its outcome for one token never changes, only the clock (exp, checked on every
   * use) and the key set (the key must still be known) can end it. Bounded like the sessions (the
   * same LocalCache); an entry lives no longer than an access token does.
   */
  private readonly verified: LocalCache<VerifiedToken>;

  constructor(
    private readonly db: Database,
    private readonly keys: SigningKeys,
    private readonly ids: IdGenerator,
    private readonly ttl: { accessSeconds: number; refreshSeconds: number },
    private readonly sessions: SessionCache,
    maxVerified: number,
  ) {
    this.verified = new LocalCache<VerifiedToken>({ ttlMs: ttl.accessSeconds * 1000, maxEntries: maxVerified });
  }

  async signAccess(userId: string, sessionId: string): Promise<string> {
    const { kid, privateKey } = this.keys.signingKey();
    return new SignJWT({ sid: sessionId })
      .setProtectedHeader({ alg: ALG, kid, typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(FLOCK_ISSUER)
      .setAudience(FLOCK_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttl.accessSeconds}s`)
      .sign(privateKey);
  }

  /** Opens a new session for a user and issues its first token pair. */
  async openSession(userId: string): Promise<IssuedTokens> {
    const sessionId = this.ids.next();
    const refreshToken = randomBytes(32).toString('base64url');
    await this.db.transaction(async (tx) => {
      await tx.query('INSERT INTO sessions (id, user_id) VALUES ($1, $2)', [sessionId, userId]);
      await tx.query(`INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))`, [
        hashToken(refreshToken),
        sessionId,
        this.ttl.refreshSeconds,
      ]);
    });
    return { accessToken: await this.signAccess(userId, sessionId), refreshToken, expiresIn: this.ttl.accessSeconds };
  }

  /** Spends a refresh token and issues the next pair of its session. */
  async rotate(refreshToken: string): Promise<IssuedTokens & { userId: string }> {
    const hash = hashToken(refreshToken);
    const outcome = await this.db.transaction(async (tx) => {
      const [row] = await tx.query<{ session_id: string; user_id: string; used_at: Date | null; expired: boolean; revoked_at: Date | null }>(
        `SELECT rt.session_id, s.user_id, rt.used_at, rt.expires_at < now() AS expired, s.revoked_at
           FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
          WHERE rt.token_hash = $1 FOR UPDATE OF rt, s`,
        [hash],
      );
      if (!row || row.revoked_at || row.expired) return { ok: false as const };
      if (row.used_at) {
        await tx.query(`UPDATE sessions SET revoked_at = now(), revoked_reason = 'refresh token reuse' WHERE id = $1`, [row.session_id]);
        return { ok: false as const, reuse: true, sessionId: row.session_id };
      }
      const next = randomBytes(32).toString('base64url');
      await tx.query('UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1', [hash]);
      await tx.query(`INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))`, [
        hashToken(next),
        row.session_id,
        this.ttl.refreshSeconds,
      ]);
      return { ok: true as const, next, sessionId: row.session_id, userId: row.user_id };
    });
    if (!outcome.ok) {
      if ('reuse' in outcome && outcome.sessionId) this.sessions.ended([outcome.sessionId]);
      throw new FlockError(
        'FLOCK_ERR_REFRESH_INVALID',
        'reuse' in outcome ? 'This refresh token was already used; the session has been revoked' : undefined,
      );
    }
    return {
      userId: outcome.userId,
      accessToken: await this.signAccess(outcome.userId, outcome.sessionId),
      refreshToken: outcome.next,
      expiresIn: this.ttl.accessSeconds,
    };
  }

  /** Revokes a session; returns the user it belonged to (null when unknown or already revoked). */
  async revokeSession(sessionId: string, reason: string): Promise<string | null> {
    const rows = await this.db.query<{ user_id: string }>(
      'UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING user_id',
      [sessionId, reason],
    );
    // Also when it was already revoked (null): a node may still remember it from before.
    this.sessions.ended([sessionId]);
    return rows[0]?.user_id ?? null;
  }

  /** The session of a refresh token, if it belongs to userId. */
  async sessionOfRefreshToken(refreshToken: string, userId: string): Promise<string | null> {
    const rows = await this.db.query<{ session_id: string }>(
      'SELECT rt.session_id FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id WHERE rt.token_hash = $1 AND s.user_id = $2',
      [hashToken(refreshToken), userId],
    );
    return rows[0]?.session_id ?? null;
  }

  async verify(token: string): Promise<Principal> {
    const known = this.verified.get(token);
    const v = known !== undefined && this.keys.knows(known.kid) ? known : await this.verifySignature(token);
    // jose's rule (no clock tolerance): expired once `exp` is not after the current second.
    if (v.exp <= Math.floor(Date.now() / 1000)) {
      this.verified.delete([token]);
      throw new FlockError('FLOCK_ERR_TOKEN_EXPIRED');
    }
    // Logout, refresh-token reuse and account deletion take effect at once on this node, and on the
    // others as soon as the invalidation arrives (SessionCache; bounded by SESSION_CACHE_TTL_MS).
    if (!(await this.sessions.isLive(v.sessionId, v.userId))) throw new FlockError('FLOCK_ERR_UNAUTHORIZED', 'The session has ended; log in again');
    return { userId: v.userId, sessionId: v.sessionId };
  }

  private async verifySignature(token: string): Promise<VerifiedToken> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw new FlockError('FLOCK_ERR_UNAUTHORIZED', 'The access token is malformed');
    }
    const key = kid ? await this.keys.verificationKey(kid) : null;
    if (!kid || !key) throw new FlockError('FLOCK_ERR_UNAUTHORIZED', 'The access token was not signed by this service');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, key, { issuer: FLOCK_ISSUER, audience: FLOCK_AUDIENCE, algorithms: [ALG] }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new FlockError('FLOCK_ERR_TOKEN_EXPIRED');
      throw new FlockError('FLOCK_ERR_UNAUTHORIZED', 'The access token is not valid');
    }
    const sid = payload.sid;
    if (typeof payload.sub !== 'string' || typeof sid !== 'string' || typeof payload.exp !== 'number') {
      throw new FlockError('FLOCK_ERR_UNAUTHORIZED', 'The access token is not valid');
    }
    const v: VerifiedToken = { userId: payload.sub, sessionId: sid, kid, exp: payload.exp };
    this.verified.set(token, v, this.verified.ticket());
    return v;
  }
}
