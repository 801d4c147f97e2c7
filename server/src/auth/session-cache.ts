import type { InvalidationBus } from '../cache/invalidation-bus.ts';
import { LocalCache } from '../cache/local-cache.ts';
import type { Queryable } from '../db/database.ts';

export interface SessionCacheOptions {
  /** How long a node trusts a session it found live without asking PostgreSQL again; 0 disables the cache. */
  ttlMs: number;
  maxEntries: number;
}

/**
 * Whether a session is live (not revoked, its user not deleted), as the per-request check of
 * Flock access tokens asks it. PostgreSQL is the truth; live sessions are remembered in-process
 * for at most `ttlMs` (docs/timelines.md "Session cache"):
 *
 * - whoever ends a session (logout, refresh-token reuse) or deletes an account calls `ended` /
 *   `usersDeleted` after the commit: this node forgets at once, the others when the bus message
 *   arrives (milliseconds);
 * - a node that may have missed messages (its bus connection dropped) forgets everything and asks
 *   PostgreSQL until the bus is back;
 * - a lookup that raced with an invalidation is not remembered (LocalCache tickets);
 * - so a missed message delays a logout on another node by at most `ttlMs`.
 */
export class SessionCache {
  private readonly live: LocalCache<string>;

  constructor(
    private readonly db: Queryable,
    private readonly bus: InvalidationBus,
    opts: SessionCacheOptions,
  ) {
    this.live = new LocalCache<string>({ ...opts, usable: () => bus.connected() });
    bus.subscribe((msg) => {
      if (msg.kind === 'session') this.live.delete(msg.ids);
      else if (msg.kind === 'user') {
        const users = new Set(msg.ids);
        this.live.deleteWhere((_, userId) => users.has(userId));
      }
    });
    bus.onGap(() => this.live.clear());
  }

  /** True when the session exists, belongs to the user and is not revoked. */
  async isLive(sessionId: string, userId: string): Promise<boolean> {
    if (this.live.get(sessionId) === userId) return true;
    const ticket = this.live.ticket();
    const rows = await this.db.query('SELECT 1 FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL', [sessionId, userId]);
    if (rows.length === 0) return false;
    this.live.set(sessionId, userId, ticket);
    return true;
  }

  /** After the commit that revoked these sessions. */
  ended(sessionIds: string[]): void {
    if (sessionIds.length > 0) this.bus.publish({ kind: 'session', ids: sessionIds });
  }

  /** After the commit that deleted these accounts (their sessions went with them). */
  usersDeleted(userIds: string[]): void {
    if (userIds.length > 0) this.bus.publish({ kind: 'user', ids: userIds });
  }

  /** Sessions remembered now (for tests and metrics). */
  get size(): number {
    return this.live.size;
  }
}
