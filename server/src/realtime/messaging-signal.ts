import type { TopicMessage } from '@flock/client/protocol';

/** What one node tells the others about topics and queues (at-most-once; the tables are the truth). */
export type MessagingSignal =
  | { kind: 'published'; topicId: string; messages: TopicMessage[] }
  | { kind: 'topic-deleted'; topicId: string }
  | { kind: 'queue-ready'; queueId: string }
  | { kind: 'queue-deleted'; queueId: string };
