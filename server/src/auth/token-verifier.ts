import type { Principal } from '../http/route.ts';

/**
 * Turns a bearer token into a principal or throws FlockError:
 * FLOCK_ERR_TOKEN_EXPIRED for an expired token (the client refreshes and
 * retries), FLOCK_ERR_UNAUTHORIZED for anything else (forged, wrong issuer,
 * revoked session, unknown user).
 */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}
