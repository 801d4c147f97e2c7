import type { TimelinePageRead } from './timeline-cache.ts';

/**
 * Timeline page reads kept in the gateway's memory, in front of Redis (docs/timelines.md
 * "Timeline reads in process"): per user, the answers of `readPage` for the ranges asked lately,
 * dropped the moment Redis reports a change of that user's keys (server-assisted client-side
 * caching: `CLIENT TRACKING`, see RedisTracking) and by every write this node makes itself.
 *
 * - An entry lives at most `ttlMs` from its read, so a lost invalidation (a silent network cut)
 *   is bounded, and the Redis TTL of an active reader's timeline keeps being renewed.
 * - At most `maxUsers` users; the user stored longest ago goes first.
 * - Fills are guarded per user: `begin` before the Redis read, `store` refuses the answer when
 *   the user was dropped since (an invalidation may arrive before the reply it invalidates: they
 *   come over two connections).
 * - While not `usable` (the invalidation connection is down or tracking is not confirmed), nothing
 *   is served or stored, and `clear` runs whenever that changes.
 */
export interface NearPagesOptions {
  ttlMs: number;
  maxUsers: number;
  now?: () => number;
}

interface UserPages {
  pages: Map<string, TimelinePageRead>;
  expiresAt: number;
}

/** Taken by `begin`; `valid` turns false when the user is dropped (or everything is) before `store`. */
export interface NearGuard {
  readonly userId: string;
  valid: boolean;
  readers: number;
}

export class NearPages {
  private readonly users = new Map<string, UserPages>();
  private readonly inflight = new Map<string, NearGuard>();
  private ready = false;
  private readonly now: () => number;

  constructor(private readonly opts: NearPagesOptions) {
    this.now = opts.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.opts.ttlMs > 0 && this.opts.maxUsers > 0;
  }

  /** Whether pages are served and stored now. */
  get usable(): boolean {
    return this.ready && this.enabled;
  }

  /** Set by the tracking: true once invalidations are certain to arrive; everything is dropped on every change. */
  setUsable(ready: boolean): void {
    this.clear();
    this.ready = ready;
  }

  get size(): number {
    return this.users.size;
  }

  get(userId: string, query: string): TimelinePageRead | undefined {
    if (!this.usable) return undefined;
    const u = this.users.get(userId);
    if (u === undefined) return undefined;
    if (u.expiresAt <= this.now()) {
      this.users.delete(userId);
      return undefined;
    }
    return u.pages.get(query);
  }

  /** Before the Redis read of a user's page; pair with `end`. */
  begin(userId: string): NearGuard {
    let g = this.inflight.get(userId);
    if (g === undefined) {
      g = { userId, valid: true, readers: 0 };
      this.inflight.set(userId, g);
    }
    g.readers++;
    return g;
  }

  /** Keeps a page read under `guard`, unless the user was dropped since; false when refused. */
  store(guard: NearGuard, query: string, page: TimelinePageRead): boolean {
    if (!guard.valid || !this.usable || page.state === null) return false;
    let u = this.users.get(guard.userId);
    if (u === undefined) {
      u = { pages: new Map(), expiresAt: this.now() + this.opts.ttlMs };
      this.users.set(guard.userId, u);
      while (this.users.size > this.opts.maxUsers) this.users.delete(this.users.keys().next().value!);
    }
    // Every later reader gets this same object: frozen, so none can change it for the others.
    Object.freeze(page.state.ids);
    if (page.state.large) Object.freeze(page.state.large);
    Object.freeze(page.state);
    u.pages.set(query, Object.freeze(page));
    return true;
  }

  end(guard: NearGuard): void {
    if (--guard.readers === 0 && this.inflight.get(guard.userId) === guard) this.inflight.delete(guard.userId);
  }

  /** Forgets these users' pages, and refuses the pages of their reads under way. */
  drop(userIds: Iterable<string>): void {
    for (const id of userIds) {
      this.users.delete(id);
      const g = this.inflight.get(id);
      if (g !== undefined) {
        g.valid = false;
        this.inflight.delete(id);
      }
    }
  }

  clear(): void {
    this.users.clear();
    for (const g of this.inflight.values()) g.valid = false;
    this.inflight.clear();
  }
}
