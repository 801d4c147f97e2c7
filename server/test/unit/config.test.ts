import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

/** The ConfigError thrown by loadConfig, or a failure if it did not throw one. */
function configError(env: Record<string, string | number | boolean | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

/** Problems of a ConfigError, reduced to the setting each one names. */
const problemKeys = (err: ConfigError): string[] => err.problems.map((p) => p.split(':')[0]!).sort();

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PORT: 8080,
      HOST: '0.0.0.0',
      DATA_DIR: './data',
      REDIS_KEY_PREFIX: 'flock:',
      FANOUT_THRESHOLD: 10_000,
      RTMP_PORT: 1935,
      LOG_LEVEL: 'info',
      HTTP_TRANSPORT: 'auto',
      UWS_USE_FALLBACK: false,
      TRUST_PROXY: false,
      PASSWORD_SCRYPT_COST: 16384,
      RATE_LOGIN_PER_ACCOUNT: { limit: 10, windowMs: 900_000 },
    });
    for (const unset of ['DATABASE_URL', 'REDIS_URL', 'TLS_CERT_FILE', 'TLS_KEY_FILE', 'NODE_ID', 'FFMPEG_PATH'] as const) {
      expect(c[unset]).toBeUndefined();
    }
  });

  it('reads the fixed setting names from the environment, coercing types', () => {
    const c = loadConfig({
      PORT: '3000',
      HOST: '127.0.0.1',
      DATA_DIR: '/var/lib/flock',
      DATABASE_URL: 'postgres://u@db:5432/flock',
      REDIS_URL: 'redis://cache:6379',
      FANOUT_THRESHOLD: '500',
      RTMP_PORT: '1936',
      LOG_LEVEL: 'debug',
      TRUST_PROXY: 'yes',
      NODE_ID: '42',
    });
    expect(c).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      DATA_DIR: '/var/lib/flock',
      DATABASE_URL: 'postgres://u@db:5432/flock',
      REDIS_URL: 'redis://cache:6379',
      FANOUT_THRESHOLD: 500,
      RTMP_PORT: 1936,
      LOG_LEVEL: 'debug',
      TRUST_PROXY: true,
      NODE_ID: 42,
    });
  });

  it('accepts numbers and booleans as well as strings', () => {
    expect(loadConfig({ PORT: 0, TRUST_PROXY: true })).toMatchObject({ PORT: 0, TRUST_PROXY: true });
  });

  it('ignores variables that are not settings (the rest of process.env)', () => {
    const c = loadConfig({ PATH: '/usr/bin', HOME: '/root', PORT: '9000' });
    expect(c.PORT).toBe(9000);
    expect(c).not.toHaveProperty('PATH');
  });

  it('treats empty strings as unset', () => {
    const c = loadConfig({ PORT: '', DATA_DIR: '', REDIS_URL: '', TLS_CERT_FILE: '', LOG_LEVEL: '' });
    expect(c.PORT).toBe(8080);
    expect(c.DATA_DIR).toBe('./data');
    expect(c.REDIS_URL).toBeUndefined();
    expect(c.LOG_LEVEL).toBe('info');
  });

  it('returns a frozen object', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => {
      (c as { PORT: number }).PORT = 1;
    }).toThrow(TypeError);
    expect(c.PORT).toBe(8080);
  });

  it('lists every problem at once, each naming its setting', () => {
    const err = configError({ PORT: 'abc', LOG_LEVEL: 'loud', RATE_LOGIN_PER_IP: 'ten' });
    expect(err.problems).toHaveLength(3);
    expect(problemKeys(err)).toEqual(['LOG_LEVEL', 'PORT', 'RATE_LOGIN_PER_IP']);
    for (const key of ['PORT', 'LOG_LEVEL', 'RATE_LOGIN_PER_IP']) expect(err.message).toContain(key);
    expect(err.name).toBe('ConfigError');
  });

  it('lists a problem of one setting together with a problem between settings', () => {
    // DESIGN §8: "a bad setting stops the start with every problem listed".
    const err = configError({ PORT: 'abc', TLS_CERT_FILE: '/etc/flock/cert.pem' });
    expect(problemKeys(err)).toEqual(['PORT', 'TLS_CERT_FILE']);
  });

  it.each([
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['FANOUT_THRESHOLD', '0'],
    ['NODE_ID', '1024'],
    ['DATABASE_URL', 'mysql://db/flock'],
    ['REDIS_URL', 'not a url'],
    ['HTTP_TRANSPORT', 'h3'],
    ['TRUST_PROXY', 'maybe'],
  ])('rejects %s=%s', (key, value) => {
    expect(problemKeys(configError({ [key]: value }))).toEqual([key]);
  });

  describe('rate settings', () => {
    it.each([
      ['10/15m', { limit: 10, windowMs: 900_000 }],
      ['300/3h', { limit: 300, windowMs: 10_800_000 }],
      ['5/1s', { limit: 5, windowMs: 1_000 }],
    ])('parses %s', (value, rule) => {
      expect(loadConfig({ RATE_TWEETS_PER_USER: value }).RATE_TWEETS_PER_USER).toEqual(rule);
    });

    it.each(['ten', '10', '10/15', '10/15d', '10 / 15m', '-1/1m', '0/15m', '10/0s'])('rejects %j', (value) => {
      expect(problemKeys(configError({ RATE_LOGIN_PER_ACCOUNT: value }))).toEqual(['RATE_LOGIN_PER_ACCOUNT']);
    });
  });

  describe('TLS', () => {
    it('accepts a certificate with its key', () => {
      const c = loadConfig({ TLS_CERT_FILE: '/tls/cert.pem', TLS_KEY_FILE: '/tls/key.pem' });
      expect(c.TLS_CERT_FILE).toBe('/tls/cert.pem');
      expect(c.TLS_KEY_FILE).toBe('/tls/key.pem');
    });

    it('rejects a certificate without a key, and a key without a certificate', () => {
      for (const env of [{ TLS_CERT_FILE: '/tls/cert.pem' }, { TLS_KEY_FILE: '/tls/key.pem' }]) {
        const err = configError(env);
        expect(err.problems).toHaveLength(1);
        expect(err.problems[0]).toMatch(/TLS_CERT_FILE.*TLS_KEY_FILE/);
      }
    });
  });

  describe('external auth', () => {
    const all = {
      AUTH_EXTERNAL_JWKS_URL: 'https://issuer.example/.well-known/jwks.json',
      AUTH_EXTERNAL_ISSUER: 'https://issuer.example/',
      AUTH_EXTERNAL_AUDIENCE: 'flock',
    };

    it('accepts all three variables together', () => {
      expect(loadConfig(all)).toMatchObject(all);
    });

    it.each(Object.keys(all))('rejects the set without %s', (missing) => {
      const err = configError({ ...all, [missing]: '' });
      expect(err.problems).toHaveLength(1);
      expect(err.problems[0]).toMatch(/AUTH_EXTERNAL_JWKS_URL.*AUTH_EXTERNAL_ISSUER.*AUTH_EXTERNAL_AUDIENCE/);
    });

    it('rejects a JWKS URL that is not http(s)', () => {
      expect(problemKeys(configError({ ...all, AUTH_EXTERNAL_JWKS_URL: 'ftp://issuer.example/jwks' }))).toEqual([
        'AUTH_EXTERNAL_JWKS_URL',
      ]);
    });
  });

  describe('PASSWORD_SCRYPT_COST', () => {
    it.each(['1024', '2048', '65536'])('accepts the power of two %s', (v) => {
      expect(loadConfig({ PASSWORD_SCRYPT_COST: v }).PASSWORD_SCRYPT_COST).toBe(Number(v));
    });

    it.each(['3000', '16383', '512'])('rejects %s', (v) => {
      expect(problemKeys(configError({ PASSWORD_SCRYPT_COST: v }))).toEqual(['PASSWORD_SCRYPT_COST']);
    });

    it('says why a value that is not a power of two is refused', () => {
      expect(configError({ PASSWORD_SCRYPT_COST: '3000' }).problems[0]).toMatch(/power of two/);
    });
  });

  describe('live push window', () => {
    it('stretches to 200 ms by default, and refuses a maximum below the minimum only when both are set', () => {
      expect(loadConfig({})).toMatchObject({ LIVE_PUSH_COALESCE_MS: 10, LIVE_PUSH_COALESCE_MAX_MS: 200 });
      expect(loadConfig({ LIVE_PUSH_COALESCE_MS: 500 })).toMatchObject({ LIVE_PUSH_COALESCE_MS: 500, LIVE_PUSH_COALESCE_MAX_MS: 200 });
      const err = configError({ LIVE_PUSH_COALESCE_MS: 50, LIVE_PUSH_COALESCE_MAX_MS: 20 });
      expect(err.problems).toEqual(['LIVE_PUSH_COALESCE_MAX_MS: must not be below LIVE_PUSH_COALESCE_MS']);
    });
  });
});
