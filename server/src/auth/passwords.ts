import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (pw: string, salt: Buffer, len: number, opts: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => scryptCb(pw, salt, len, opts, (err, key) => (err ? reject(err) : resolve(key))));

const KEY_LEN = 32;

/** `scrypt$N$r$p$salt$hash` (base64url), so the cost can change without breaking old hashes. */
export async function hashPassword(password: string, cost: number): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LEN, { N: cost, r: 8, p: 1, maxmem: 256 * cost * 8 });
  return `scrypt$${cost}$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** The largest cost a stored hash may ask for (the config's maximum): a bigger one is not ours. */
const MAX_COST = 1 << 20;

/** False for a wrong password and for any stored value that is not a hash this module wrote. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6) return false;
  const [alg, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  if (alg !== 'scrypt' || !/^\d+$/.test(n) || !/^\d+$/.test(r) || !/^\d+$/.test(p)) return false;
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  if (N < 2 || N > MAX_COST || (N & (N - 1)) !== 0 || R < 1 || R > 32 || P < 1 || P > 16) return false;
  const expected = Buffer.from(hash, 'base64url');
  // An empty (or short) expected key would make timingSafeEqual compare nothing and succeed.
  if (expected.length !== KEY_LEN || salt.length === 0) return false;
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), KEY_LEN, { N, r: R, p: P, maxmem: 256 * N * R });
  return timingSafeEqual(key, expected);
}
