import type { ErrorCode } from './errors.ts';
import type { Notification, Page, QueueMessage, Tweet, TopicMessage } from './types.ts';

/**
 * The socket contract of DESIGN §4 (Socket.IO v4, namespace `/`). The server
 * types its Socket.IO instance with these maps; the SDK types its client with
 * them. Every server event carries an `id`; a client may see an event twice
 * (after a reconnect and `sync`) and drops repeats by id.
 */

export interface TweetEvent {
  /** Event id: the tweet id. */
  id: string;
  tweet: Tweet;
}

export interface TweetDeletedEvent {
  /** Event id: `deleted:<tweetId>`. */
  id: string;
  tweetId: string;
  authorId: string;
}

export interface NotificationEvent {
  /** Event id: the notification id. */
  id: string;
  notification: Notification;
}

/** Sent just before the server closes a socket, saying whether to reconnect. */
export interface DisconnectNotice {
  code: DisconnectCode;
  reason: string;
  /** true: reconnect (with backoff) and `sync`; false: do not reconnect (log in again first). */
  reconnect: boolean;
}

/**
 * Close codes: 4000–4099 mean "reconnect, then sync" (the SDK does so with
 * backoff); 4100–4199 are terminal (the SDK stops and reports).
 */
export const DISCONNECT_CODES = {
  /** The node is shutting down; reconnect (the load balancer picks another node). */
  SERVER_DRAINING: 4000,
  /** The socket's send buffer passed the limit; reconnect and sync what was missed. */
  SLOW_CONSUMER: 4001,
  /** The socket sent events faster than its rate limit. */
  RATE_LIMITED: 4002,
  /** The session was logged out or revoked. */
  LOGGED_OUT: 4100,
  /** The account was deleted. */
  ACCOUNT_DELETED: 4101,
} as const;

export type DisconnectCode = (typeof DISCONNECT_CODES)[keyof typeof DISCONNECT_CODES];

export const isReconnectCode = (code: number): boolean => code >= 4000 && code < 4100;

export type AckError = { ok: false; error: { code: ErrorCode; message: string; details?: unknown } };
export type Ack<T extends object = object> = ({ ok: true } & T) | AckError;

export interface SyncRequest {
  /** Notification id last seen; the answer holds the newer ones, oldest first. */
  notificationsAfter?: string;
  /** Tweet id last seen; the answer holds the newer home-timeline tweets, newest first. */
  timelineSinceId?: string;
}

export interface SyncResponse {
  notifications: Page<Notification>;
  timeline: Page<Tweet>;
}

// --- WebRTC ingest signaling (DESIGN §7, docs/media-webrtc.md) --------------------------------

/**
 * A mediasoup JSON object (RtpCapabilities, IceParameters, DtlsParameters, RtpParameters, …),
 * passed between mediasoup-client and the server as-is; the server validates it with mediasoup.
 */
export type MediasoupObject = Record<string, unknown>;

export type WebRtcMediaKind = 'audio' | 'video';

export interface WebRtcCapabilitiesResponse {
  /** Give to mediasoup-client's `device.load({routerRtpCapabilities})`. */
  routerRtpCapabilities: MediasoupObject;
}

export interface WebRtcTransportRequest {
  /** The stream to publish into (the caller must own it). */
  streamId: string;
  /** What will be produced on this transport; the ingest starts once each kind is produced. Default both. */
  kinds?: WebRtcMediaKind[];
}

/** The arguments of mediasoup-client's `device.createSendTransport`. */
export interface WebRtcTransportResponse {
  transportId: string;
  iceParameters: MediasoupObject;
  iceCandidates: MediasoupObject[];
  dtlsParameters: MediasoupObject;
}

/** Sent from the send transport's `connect` event. */
export interface WebRtcConnectRequest {
  transportId: string;
  dtlsParameters: MediasoupObject;
}

/** Sent from the send transport's `produce` event. */
export interface WebRtcProduceRequest {
  transportId: string;
  kind: WebRtcMediaKind;
  rtpParameters: MediasoupObject;
}

export interface WebRtcProduceResponse {
  producerId: string;
}

export interface ServerToClientEvents {
  tweet: (e: TweetEvent) => void;
  'tweet:deleted': (e: TweetDeletedEvent) => void;
  notification: (e: NotificationEvent) => void;
  'flock:disconnect': (e: DisconnectNotice) => void;
  'topic:message': (e: TopicMessageEvent) => void;
  'topic:deleted': (e: TopicDeletedEvent) => void;
  'queue:message': (e: QueueMessageEvent) => void;
  'queue:deleted': (e: QueueDeletedEvent) => void;
}

export interface ClientToServerEvents {
  sync: (req: SyncRequest, ack: (res: Ack<SyncResponse>) => void) => void;
  'topic:subscribe': (req: TopicSubscribeRequest, ack: (res: Ack<TopicSubscribeResponse>) => void) => void;
  'topic:unsubscribe': (req: { name: string }, ack: (res: Ack) => void) => void;
  'queue:consume': (req: QueueConsumeRequest, ack: (res: Ack) => void) => void;
  'queue:cancel': (req: { name: string }, ack: (res: Ack) => void) => void;
  'queue:ack': (req: { name: string; ids: string[] }, ack: (res: Ack<QueueAckResponse>) => void) => void;
  // WebRTC ingest; FLOCK_ERR_UNAVAILABLE when this gateway has no mediasoup worker (RTMP only).
  'webrtc:capabilities': (req: Record<string, never>, ack: (res: Ack<WebRtcCapabilitiesResponse>) => void) => void;
  'webrtc:transport': (req: WebRtcTransportRequest, ack: (res: Ack<WebRtcTransportResponse>) => void) => void;
  'webrtc:connect': (req: WebRtcConnectRequest, ack: (res: Ack) => void) => void;
  'webrtc:produce': (req: WebRtcProduceRequest, ack: (res: Ack<WebRtcProduceResponse>) => void) => void;
}

/** `connect_error` data for a refused handshake. */
export interface ConnectErrorData {
  code: Extract<ErrorCode, 'FLOCK_ERR_UNAUTHORIZED' | 'FLOCK_ERR_TOKEN_EXPIRED' | 'FLOCK_ERR_UNAVAILABLE' | 'FLOCK_ERR_RATE_LIMITED'>;
}

/* ---- Messaging (DESIGN §6) ---- */

export interface TopicMessageEvent {
  /** Event id: the message id. */
  id: string;
  topic: string;
  message: TopicMessage;
}

/** Terminal for the subscription: the topic and its messages are gone. */
export interface TopicDeletedEvent {
  /** Event id: `topic-deleted:<topicId>`. */
  id: string;
  topic: string;
}

export interface QueueMessageEvent {
  /** Event id: the message id (a redelivery repeats it, with a higher `attempts`). */
  id: string;
  queue: string;
  message: QueueMessage;
}

/** Terminal for the consumer: the queue and its messages are gone. */
export interface QueueDeletedEvent {
  /** Event id: `queue-deleted:<queueId>`. */
  id: string;
  queue: string;
}

export interface TopicSubscribeRequest {
  name: string;
  /** Replay from this offset (inclusive; older retained messages are gone), then go live. Absent: live only. */
  fromOffset?: number;
}

export interface TopicSubscribeResponse {
  /** The first offset this subscription delivers. */
  fromOffset: number;
}

export interface QueueConsumeRequest {
  name: string;
  /** Most unacked messages this socket holds at once (default 10, at most 100). */
  max?: number;
  /** Lease of each pushed message (default 30). */
  visibilitySeconds?: number;
}

export interface QueueAckResponse {
  acked: string[];
  /** Ids not acked: unknown, already acked, or their lease had ended. */
  missing: string[];
}

// --- Live streams (DESIGN §7) ---

export interface StreamLiveEvent {
  /** Event id: `live:<streamId>`. */
  id: string;
  stream: import('./types.ts').LiveStream;
}

export interface StreamEndedEvent {
  /** Event id: `ended:<streamId>`. */
  id: string;
  streamId: string;
}

export interface ChatMessageEvent {
  /** Event id: the chat message id. */
  id: string;
  streamId: string;
  user: import('./types.ts').UserSummary;
  /** 1–280 grapheme clusters. */
  text: string;
  sentAt: string;
}

export interface StreamViewersEvent {
  /** Event id: `viewers:<streamId>:<sequence>`. */
  id: string;
  streamId: string;
  viewers: number;
}

export interface ChatSendRequest {
  streamId: string;
  text: string;
}

export interface StreamJoinRequest {
  streamId: string;
}

// Declaration merging adds the live-stream events to the maps above, keeping this block separate.
export interface ServerToClientEvents {
  'stream:live': (e: StreamLiveEvent) => void;
  'stream:ended': (e: StreamEndedEvent) => void;
  'stream:viewers': (e: StreamViewersEvent) => void;
  'chat:message': (e: ChatMessageEvent) => void;
}

export interface ClientToServerEvents {
  /** Joins room `stream:<id>` to receive its chat and viewer count; answers the current count. */
  'stream:join': (req: StreamJoinRequest, ack: (res: Ack<{ viewers: number }>) => void) => void;
  'stream:leave': (req: StreamJoinRequest, ack: (res: Ack) => void) => void;
  'chat:send': (req: ChatSendRequest, ack: (res: Ack<{ message: ChatMessageEvent }>) => void) => void;
}
