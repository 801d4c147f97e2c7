import { decodeJwt } from 'jose';
import { FlockError } from '../errors.ts';
import type { Principal } from '../http/route.ts';
import type { ExternalTokens } from './external-tokens.ts';
import type { TokenVerifier } from './token-verifier.ts';

/** Routes a token to the external verifier when its `iss` is the configured issuer, else to Flock's own. */
export class CompositeVerifier implements TokenVerifier {
  constructor(
    private readonly local: TokenVerifier,
    private readonly external: ExternalTokens | null,
  ) {}

  verify(token: string): Promise<Principal> {
    if (this.external) {
      let iss: unknown;
      try {
        iss = decodeJwt(token).iss;
      } catch {
        return Promise.reject(new FlockError('FLOCK_ERR_UNAUTHORIZED', 'The access token is malformed'));
      }
      if (iss === this.external.issuer) return this.external.verify(token);
    }
    return this.local.verify(token);
  }
}
