import { FlockApiError } from './api-error.ts';
import type { AuthResult } from './protocol/index.ts';
import type { StoredTokens, TokenStorage } from './token-storage.ts';

/**
 * The token pair and its one refresh at a time. The gateway rotates refresh tokens and revokes
 * the whole session when a spent one is presented again, so two refreshes must never run in
 * parallel: every caller that finds its access token expired joins the refresh already running.
 */
export class Session {
  private tokens: StoredTokens | null = null;
  private refreshing: Promise<string> | null = null;
  readonly ready: Promise<void>;

  constructor(
    private readonly storage: TokenStorage,
    private readonly refreshCall: (refreshToken: string) => Promise<AuthResult>,
    private readonly onChange: (tokens: StoredTokens | null) => void,
  ) {
    this.ready = Promise.resolve(storage.load()).then(
      (t) => {
        this.tokens ??= t; // a login that finished before the storage answered wins
        if (this.tokens) onChange(this.tokens);
      },
      () => {}, // unreadable storage: start logged out
    );
  }

  get current(): StoredTokens | null {
    return this.tokens;
  }

  async set(auth: AuthResult): Promise<void> {
    this.tokens = { accessToken: auth.accessToken, refreshToken: auth.refreshToken, userId: auth.user.id, handle: auth.user.handle };
    await this.storage.save(this.tokens);
    this.onChange(this.tokens);
  }

  async clear(): Promise<void> {
    const had = this.tokens !== null;
    this.tokens = null;
    await this.storage.clear();
    if (had) this.onChange(null);
  }

  /**
   * A fresh access token to replace `stale`. When another caller already refreshed (the current
   * token differs from `stale`), that one is returned without a second refresh. An invalid refresh
   * token ends the session (FLOCK_ERR_REFRESH_INVALID is rethrown); a network error keeps it.
   */
  refresh(stale: string | null): Promise<string> {
    if (this.refreshing) return this.refreshing;
    const t = this.tokens;
    if (!t) return Promise.reject(new FlockApiError(401, 'FLOCK_ERR_UNAUTHORIZED', 'Not logged in'));
    if (stale !== null && t.accessToken !== stale) return Promise.resolve(t.accessToken);
    this.refreshing = this.refreshCall(t.refreshToken)
      .then(
        async (auth) => {
          // A logout during the refresh wins: do not resurrect the session.
          if (this.tokens?.refreshToken !== t.refreshToken) throw new FlockApiError(401, 'FLOCK_ERR_UNAUTHORIZED', 'Logged out');
          await this.set(auth);
          return auth.accessToken;
        },
        async (err: unknown) => {
          if (err instanceof FlockApiError && err.status === 401 && this.tokens?.refreshToken === t.refreshToken) await this.clear();
          throw err;
        },
      )
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }
}
