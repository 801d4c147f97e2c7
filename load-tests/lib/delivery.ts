/**
 * timeline-push's accounting of live deliveries. A follower's socket receives `tweet` pushes; at
 * the end it reads its home timeline over HTTP, and every tweet of someone it follows that was
 * created while its socket was connected (and long enough before the check for a push to have
 * arrived) but never pushed is a missed delivery. Pure, so the rule is unit-tested.
 */

export interface TimelineTweet {
  id: string;
  createdAt: string;
  author: { id: string };
}

export interface DeliveryWindow {
  /** When the socket was connected (ms since epoch): earlier tweets were never owed a push. */
  fromMs: number;
  /** Tweets created after this (the check time minus a grace) may still be in flight. */
  toMs: number;
}

/** Milliseconds from the tweet's creation to its receipt (negative only with skewed clocks). */
export function deliveryMs(createdAt: string, receivedAtMs: number): number {
  return receivedAtMs - Date.parse(createdAt);
}

/** Tweets the timeline proves were owed to this socket and never arrived. */
export function missedDeliveries(
  timeline: readonly TimelineTweet[],
  received: Readonly<Record<string, true>>,
  followed: Readonly<Record<string, true>>,
  window: DeliveryWindow,
): TimelineTweet[] {
  return timeline.filter((t) => {
    const at = Date.parse(t.createdAt);
    return followed[t.author.id] === true && at >= window.fromMs && at <= window.toMs && received[t.id] !== true;
  });
}
