/** What the SDK keeps between runs: the token pair and, for display, who it belongs to. */
export interface StoredTokens {
  accessToken: string;
  refreshToken: string;
  userId: string;
  handle: string;
}

/**
 * Where tokens live. Memory by default; `webStorageTokens(localStorage)` in browsers,
 * `asyncStorageTokens(AsyncStorage)` in React Native, or anything with these three methods
 * (a keychain, a file in Node). Methods may be sync or async.
 */
export interface TokenStorage {
  load(): StoredTokens | null | Promise<StoredTokens | null>;
  save(tokens: StoredTokens): void | Promise<void>;
  clear(): void | Promise<void>;
}

export function memoryTokenStorage(): TokenStorage {
  let value: StoredTokens | null = null;
  return {
    load: () => value,
    save: (t) => void (value = t),
    clear: () => void (value = null),
  };
}

/** The part of the Web Storage API (localStorage, sessionStorage) used here. */
export interface WebStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** The part of React Native's AsyncStorage used here (passed in, so the SDK does not depend on it). */
export interface AsyncStorageLike {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
}

function parse(raw: string | null): StoredTokens | null {
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as Partial<StoredTokens>;
    return typeof v.accessToken === 'string' && typeof v.refreshToken === 'string' && typeof v.userId === 'string' && typeof v.handle === 'string'
      ? (v as StoredTokens)
      : null;
  } catch {
    return null; // a corrupt entry means "logged out", not a crash at start
  }
}

export function webStorageTokens(storage: WebStorageLike, key = 'flock.tokens'): TokenStorage {
  return {
    load: () => parse(storage.getItem(key)),
    save: (t) => storage.setItem(key, JSON.stringify(t)),
    clear: () => storage.removeItem(key),
  };
}

export function asyncStorageTokens(storage: AsyncStorageLike, key = 'flock.tokens'): TokenStorage {
  return {
    load: async () => parse(await storage.getItem(key)),
    save: (t) => storage.setItem(key, JSON.stringify(t)),
    clear: () => storage.removeItem(key),
  };
}
