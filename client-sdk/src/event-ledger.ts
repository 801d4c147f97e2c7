import { compareIds, maxId } from './ids.ts';

/**
 * What the client has already handed to the application, per kind of durable event (tweets,
 * notifications), so each is delivered exactly once although live pushes, `sync` answers (which
 * overlap the last ids on purpose) and HTTP pages repeat one another.
 *
 * Per kind: the ids seen (the newest `capacity` of them), the newest id seen (the cursor `sync`
 * sends), and a floor: ids at or below it are history the application did not ask to be told
 * about, or were seen so long ago that they dropped out of the set.
 */
export class LedgerKind {
  private readonly ids: string[] = []; // ascending, at most `capacity`
  private readonly set = new Set<string>();
  private newestId: string | null = null;
  private floorId: string | null = null;

  constructor(private readonly capacity = 2000) {}

  /** True once the client knows where "now" is for this kind (it saw an id, or saw that there is none). */
  get known(): boolean {
    return this.newestId !== null || this.floorId !== null;
  }

  /** The cursor to send with `sync` (undefined: from the start). */
  get newest(): string | null {
    return this.newestId;
  }

  /** True when `id` is new (and records it); false for a repeat or history below the floor. */
  accept(id: string): boolean {
    if (this.floorId !== null && compareIds(id, this.floorId) <= 0) return false;
    if (this.set.has(id)) return false;
    this.record(id);
    return true;
  }

  /** Records ids the application got some other way (an HTTP page), without delivering them. */
  markSeen(ids: readonly string[]): void {
    for (const id of ids) if (!this.set.has(id)) this.record(id);
  }

  /** Everything up to `id` is history ("0": there is no history). */
  raiseFloor(id: string): void {
    this.floorId = maxId(this.floorId, id);
  }

  reset(): void {
    this.ids.length = 0;
    this.set.clear();
    this.newestId = this.floorId = null;
  }

  private record(id: string): void {
    this.set.add(id);
    this.newestId = maxId(this.newestId, id);
    // Insert in order; the common case (a newer id) appends.
    let i = this.ids.length;
    while (i > 0 && compareIds(this.ids[i - 1]!, id) > 0) i--;
    this.ids.splice(i, 0, id);
    if (this.ids.length > this.capacity) {
      // Forget the oldest; anything that old counts as seen from now on.
      const dropped = this.ids.shift()!;
      this.set.delete(dropped);
      this.raiseFloor(dropped);
    }
  }
}

/** Repeats of other events carrying an `id` (stream and chat events): the last `capacity` ids per event name. */
export class RecentIds {
  private readonly byEvent = new Map<string, { order: string[]; set: Set<string> }>();

  constructor(private readonly capacity = 500) {}

  accept(event: string, id: string): boolean {
    let e = this.byEvent.get(event);
    if (!e) this.byEvent.set(event, (e = { order: [], set: new Set() }));
    if (e.set.has(id)) return false;
    e.set.add(id);
    e.order.push(id);
    if (e.order.length > this.capacity) e.set.delete(e.order.shift()!);
    return true;
  }

  reset(): void {
    this.byEvent.clear();
  }
}
