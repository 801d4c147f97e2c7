import { importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';

type Query = (sql: string) => Promise<{ kid: string; private_jwk: string }[]>;

/**
 * An access token for the same user and session as `accessToken`, signed with the gateway's
 * real key but already expired: what a client holds after its token ran out.
 */
export async function expiredAccessToken(query: Query, user: { id: string; accessToken: string }): Promise<string> {
  const [row] = await query('SELECT kid, private_jwk FROM signing_keys ORDER BY created_at DESC LIMIT 1');
  const key = (await importJWK(JSON.parse(row!.private_jwk) as JWK, 'EdDSA')) as CryptoKey;
  const sid = (JSON.parse(Buffer.from(user.accessToken.split('.')[1]!, 'base64url').toString()) as { sid: string }).sid;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sid })
    .setProtectedHeader({ alg: 'EdDSA', kid: row!.kid })
    .setSubject(user.id)
    .setIssuer('flock')
    .setAudience('flock')
    .setIssuedAt(now - 3600)
    .setExpirationTime(now - 60)
    .sign(key);
}
