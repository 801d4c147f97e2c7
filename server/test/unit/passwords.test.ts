import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../src/auth/passwords.ts';

// The smallest cost the config accepts: fast enough for unit tests.
const COST = 1024;

describe('password hashing', () => {
  it('verifies the password it hashed', async () => {
    const stored = await hashPassword('correct horse battery staple', COST);
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
  });

  it('refuses a wrong password, including near misses', async () => {
    const stored = await hashPassword('correct horse battery staple', COST);
    for (const wrong of ['', 'correct horse battery stapl', 'Correct horse battery staple', 'correct horse battery staple ']) {
      expect(await verifyPassword(wrong, stored)).toBe(false);
    }
  });

  it('handles non-ASCII passwords', async () => {
    const stored = await hashPassword('pässwörd 🔑 密码', COST);
    expect(await verifyPassword('pässwörd 🔑 密码', stored)).toBe(true);
    expect(await verifyPassword('passwörd 🔑 密码', stored)).toBe(false);
  });

  it('salts: two hashes of the same password differ, and both verify', async () => {
    const a = await hashPassword('same password', COST);
    const b = await hashPassword('same password', COST);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same password', a)).toBe(true);
    expect(await verifyPassword('same password', b)).toBe(true);
  });

  it('stores the algorithm and its cost with the hash, not the password', async () => {
    const stored = await hashPassword('hunter2', COST);
    expect(stored).toMatch(/^scrypt\$1024\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(stored).not.toContain('hunter2');
  });

  it('verifies hashes made with another cost (the cost can change without breaking old hashes)', async () => {
    const old = await hashPassword('kept', 2048);
    expect(await verifyPassword('kept', old)).toBe(true);
  });

  describe('a malformed stored hash verifies nothing', () => {
    const salt = Buffer.from('0123456789abcdef').toString('base64url');
    const hash = Buffer.alloc(32, 7).toString('base64url');
    it.each([
      ['empty', ''],
      ['garbage', 'not a hash'],
      ['another algorithm', `argon2id$1024$8$1$${salt}$${hash}`],
      ['missing fields', `scrypt$1024$8$1$${salt}`],
      ['empty hash field', `scrypt$1024$8$1$${salt}$`],
      ['non-numeric cost', `scrypt$abc$8$1$${salt}$${hash}`],
      ['cost not a power of two', `scrypt$1000$8$1$${salt}$${hash}`],
      ['non-numeric block size', `scrypt$1024$x$1$${salt}$${hash}`],
      ['hash field with no base64url characters', `scrypt$1024$8$1$${salt}$!!!`],
      ['hash field of padding only', `scrypt$1024$8$1$${salt}$====`],
    ])('%s', async (_label, stored) => {
      await expect(verifyPassword('any password', stored)).resolves.toBe(false);
      await expect(verifyPassword('', stored)).resolves.toBe(false);
    });
  });
});
