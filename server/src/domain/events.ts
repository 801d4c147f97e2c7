import { EventEmitter } from 'node:events';
import type { LiveStream, Notification, Tweet } from '@flock/client/protocol';

/**
 * Things that happened, emitted after their transaction committed. The HTTP
 * API does not depend on anyone listening; the real-time gateway subscribes
 * to push them to sockets.
 */
export interface DomainEventMap {
  /** authorFollowers: the author's follower count as of the commit (the live push picks its rooms by it). */
  'tweet:created': [{ tweet: Tweet; authorFollowers: number }];
  'tweet:deleted': [{ id: string; authorId: string; authorFollowers: number }];
  'notification:created': [{ userId: string; notification: Notification }];
  'follow:changed': [{ followerId: string; followeeId: string; following: boolean }];
  'session:revoked': [{ userId: string; sessionId: string | null }];
  'user:deleted': [{ userId: string }];
  // --- Live streams ---
  'stream:live': [{ stream: LiveStream }];
  'stream:ended': [{ streamId: string; ownerId: string }];
}

export class DomainEvents extends EventEmitter<DomainEventMap> {}
