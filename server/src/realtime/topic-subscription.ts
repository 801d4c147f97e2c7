import type { TopicMessage } from '@flock/client/protocol';
import type { Logger } from '../logger.ts';
import { Rerun } from './rerun.ts';
import type { FlockSocket } from './socket-feature.ts';

/** Reads a topic's retained messages after an offset, oldest first (the durable source of truth). */
export type TopicReader = (topicId: string, after: number, limit: number) => Promise<TopicMessage[]>;

const REPLAY_PAGE = 500;

/**
 * One socket's subscription to one topic, with the next offset it owes the
 * client. Every message is emitted exactly once and in offset order, whatever
 * arrives: live batches (from any node, possibly reordered or lost on the way)
 * are delivered directly when they continue the cursor, dropped when they are
 * behind it, and when they jump ahead — or while a replay is running — the
 * gap is read from the table instead. Because a publish commits its offsets in
 * order, a read sees a gap-free prefix, so replay-then-live has no gap and no
 * duplicate at the seam.
 */
export class TopicSubscription {
  /** A live batch that arrives during a replay read asks it for one more read before going live. */
  private readonly replay = new Rerun(
    () => this.readToEnd(),
    // The periodic check (see MessagingFeature) retries; nothing is lost, the table still has it.
    (err) => this.log.warn({ err: (err as Error).message, topic: this.topic }, 'topic replay failed; will retry'),
  );
  private closed = false;

  constructor(
    readonly socket: FlockSocket,
    readonly topic: string,
    readonly topicId: string,
    /** The next offset to deliver. */
    public next: number,
    private readonly read: TopicReader,
    private readonly log: Logger,
  ) {}

  /** Live messages of this topic, in offset order within the batch. */
  onLive(messages: readonly TopicMessage[]): void {
    if (this.closed) return;
    if (this.replay.busy) {
      void this.replay.run();
      return;
    }
    for (const m of messages) {
      if (m.offset < this.next) continue;
      if (m.offset > this.next) {
        void this.catchUp();
        return;
      }
      this.emit(m);
    }
  }

  /** Reads from the table until caught up with what is committed; then live messages take over. */
  catchUp(): Promise<void> {
    return this.replay.run();
  }

  private async readToEnd(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const page = await this.read(this.topicId, this.next - 1, REPLAY_PAGE);
      if (this.closed) return;
      for (const m of page) if (m.offset >= this.next) this.emit(m);
      if (page.length < REPLAY_PAGE) return;
    }
  }

  private emit(m: TopicMessage): void {
    this.next = m.offset + 1;
    this.socket.emit('topic:message', { id: m.id, topic: this.topic, message: m });
  }

  /** Terminal: the topic is gone. */
  deleted(): void {
    if (this.closed) return;
    this.socket.emit('topic:deleted', { id: `topic-deleted:${this.topicId}`, topic: this.topic });
    this.close();
  }

  close(): void {
    this.closed = true;
  }
}
