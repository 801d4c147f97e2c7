import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Stream keys are `<streamId>_<secret>`: the id finds the row, the secret (24 random bytes,
 * base64url) is checked against its sha256. A fast hash is enough for a high-entropy random
 * secret (nothing to brute-force), and it keeps the publish check cheap. Only [A-Za-z0-9_-],
 * so the key fits an RTMP stream name and OBS's "stream key" field as is.
 */
export function newStreamKey(streamId: string): { key: string; hash: string } {
  const secret = randomBytes(24).toString('base64url');
  return { key: `${streamId}_${secret}`, hash: hashSecret(secret) };
}

const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** The stream id a key names, or null when it is not shaped like a key. */
export function parseStreamKey(key: string): { streamId: string; secret: string } | null {
  const m = /^(\d{1,20})_([A-Za-z0-9_-]{32})$/.exec(key);
  return m ? { streamId: m[1]!, secret: m[2]! } : null;
}

export function secretMatches(secret: string, hash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The one query a key check needs; the gateway's Database and a plain pg pool both fit. */
export interface SqlQuery {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

/** The stream a key opens: right secret, and the stream not over yet; null otherwise. */
export async function authorizeStreamKey(db: SqlQuery, streamKey: string): Promise<string | null> {
  const parsed = parseStreamKey(streamKey);
  if (!parsed) return null;
  const [r] = await db.query<{ key_hash: string; status: string }>('SELECT key_hash, status FROM streams WHERE id = $1', [parsed.streamId]);
  if (!r || r.status === 'ended' || !secretMatches(parsed.secret, r.key_hash)) return null;
  return parsed.streamId;
}
