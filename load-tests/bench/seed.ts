import type { FlockApi, Session } from './api.ts';

/**
 * Realistic-enough data, created through the HTTP API like real clients
 * would: one reader following a set of authors who each posted tweets, plus
 * authors nobody follows, so the home timeline query has rows to skip.
 */

export interface SeedPlan {
  /** Authors the reader follows. @default 50 */
  followedAuthors: number;
  /** Authors nobody follows. @default 25 */
  otherAuthors: number;
  /** @default 20 */
  tweetsPerAuthor: number;
  /** Seeding requests in flight at once. @default 8 */
  concurrency: number;
}

export const DEFAULT_SEED_PLAN: Readonly<SeedPlan> = Object.freeze({ followedAuthors: 50, otherAuthors: 25, tweetsPerAuthor: 20, concurrency: 8 });

export interface SeededData {
  /** Follows every followed author. */
  reader: Session;
  /** The followed authors, in handle order. */
  authors: Session[];
  /** Ids of every seeded tweet (followed and other authors). */
  tweetIds: string[];
}

export const SEED_PASSWORD = 'bench-password-1';

const WORDS = (
  'the a new today just shipped release latency socket stream timeline reader follow coffee morning build deploy ' +
  'bug fix rollout graph cache postgres redis node fast slow queue event live video chat launch weekend ' +
  'thread reply great idea think about working on finally again love hate benchmark numbers look good'
).split(' ');

/** Deterministic filler text of 8–23 words (Park–Miller generator), unique per seed thanks to the prefix. */
export function fillerText(seed: number): string {
  let state = (seed % 2147483646) + 1;
  const next = () => (state = (state * 48271) % 2147483647);
  const words = Array.from({ length: 8 + (next() % 16) }, () => WORDS[next() % WORDS.length]);
  return `#${seed} ${words.join(' ')}`;
}

/** Runs fn over items with at most `limit` calls in flight; results keep the input order. */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export async function seed(api: FlockApi, plan: SeedPlan = DEFAULT_SEED_PLAN): Promise<SeededData> {
  const handles = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);
  const reader = await api.register('reader', SEED_PASSWORD);
  const authors = await mapConcurrent(handles('author', plan.followedAuthors), plan.concurrency, (h) => api.register(h, SEED_PASSWORD));
  const others = await mapConcurrent(handles('other', plan.otherAuthors), plan.concurrency, (h) => api.register(h, SEED_PASSWORD));
  await mapConcurrent(authors, plan.concurrency, (a) => api.follow(reader, a.handle));

  // One task per (round, author): authors post in turns, so each author's tweets spread over the id range as in real life.
  const posts = Array.from({ length: plan.tweetsPerAuthor }, (_, round) => [...authors, ...others].map((author) => ({ round, author }))).flat();
  const tweets = await mapConcurrent(posts, plan.concurrency, ({ author }, i) => api.postTweet(author, fillerText(i)));
  return { reader, authors, tweetIds: tweets.map((t) => t.id) };
}
