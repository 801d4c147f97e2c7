import { EventEmitter } from 'node:events';
import type { TopicMessage } from '@flock/client/protocol';

/**
 * What the messaging services did, emitted after the transaction committed (so
 * the durable table already holds it). The live side (realtime/) listens and
 * pushes; nothing in the HTTP API depends on a listener.
 */
export interface MessagingEventMap {
  'topic:published': [{ topicId: string; name: string; messages: TopicMessage[] }];
  'topic:deleted': [{ topicId: string; name: string }];
  'queue:sent': [{ queueId: string; name: string }];
  'queue:deleted': [{ queueId: string; name: string }];
}

export class MessagingEvents extends EventEmitter<MessagingEventMap> {}
