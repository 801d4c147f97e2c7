import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type JWK, type CryptoKey } from 'jose';
import type { Database } from '../db/database.ts';

export const ALG = 'EdDSA';

interface KeyRow {
  kid: string;
  private_jwk: string;
  public_jwk: string;
}

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
}

/**
 * Token signing keys live in the database so every node of a cluster signs
 * and verifies with the same set. The newest key signs; all keys verify and
 * are published as the JWKS. A node that meets an unknown kid reloads.
 */
export class SigningKeys {
  private current: SigningKey | null = null;
  private publics = new Map<string, { key: CryptoKey; jwk: JWK }>();
  private lastReload = 0;

  constructor(private readonly db: Database) {}

  async init(): Promise<void> {
    const rows = await this.load();
    if (rows.length > 0) return;
    const { privateKey, publicKey } = await generateKeyPair(ALG, { crv: 'Ed25519', extractable: true });
    const kid = randomUUID();
    const privateJwk = JSON.stringify(await exportJWK(privateKey));
    const publicJwk = JSON.stringify({ ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' });
    // Nodes starting together on an empty database must end up with one key, not one each.
    await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(7310432)');
      const existing = await tx.query('SELECT 1 FROM signing_keys LIMIT 1');
      if (existing.length === 0) {
        await tx.query('INSERT INTO signing_keys (kid, alg, private_jwk, public_jwk) VALUES ($1, $2, $3, $4)', [kid, ALG, privateJwk, publicJwk]);
      }
    });
    await this.load();
  }

  private async load(): Promise<KeyRow[]> {
    // Newest first; on a tie (two nodes created keys at once) every node picks the same one.
    const rows = await this.db.query<KeyRow>('SELECT kid, private_jwk, public_jwk FROM signing_keys ORDER BY created_at DESC, kid DESC');
    const publics = new Map<string, { key: CryptoKey; jwk: JWK }>();
    for (const r of rows) {
      const jwk = JSON.parse(r.public_jwk) as JWK;
      publics.set(r.kid, { key: (await importJWK(jwk, ALG)) as CryptoKey, jwk });
    }
    this.publics = publics;
    const newest = rows[0];
    if (newest) this.current = { kid: newest.kid, privateKey: (await importJWK(JSON.parse(newest.private_jwk) as JWK, ALG)) as CryptoKey };
    this.lastReload = Date.now();
    return rows;
  }

  signingKey(): SigningKey {
    if (!this.current) throw new Error('signing keys not initialised');
    return this.current;
  }

  /** Whether a kid is among the keys loaded now (no reload). */
  knows(kid: string): boolean {
    return this.publics.has(kid);
  }

  /** Public key for a kid; reloads from the database (at most once a second) when unknown. */
  async verificationKey(kid: string): Promise<CryptoKey | null> {
    const known = this.publics.get(kid);
    if (known) return known.key;
    if (Date.now() - this.lastReload < 1000) return null;
    await this.load();
    return this.publics.get(kid)?.key ?? null;
  }

  jwks(): { keys: JWK[] } {
    return { keys: [...this.publics.values()].map((p) => p.jwk) };
  }
}
