/** JSON shapes of DESIGN §3, shared by the HTTP API, socket events and the SDK. */

export interface UserSummary {
  id: string;
  handle: string;
  name: string;
  avatarUrl: string | null;
}

export interface UserCounts {
  followers: number;
  following: number;
  tweets: number;
}

export interface User extends UserSummary {
  bio: string;
  bannerUrl: string | null;
  website: string | null;
  location: string | null;
  birthDate: string | null;
  createdAt: string;
  counts: UserCounts;
  /** Present only when the request is authenticated and the user is not the caller. */
  isFollowing?: boolean;
}

/** The caller's own account: a User plus private fields. */
export interface Me extends User {
  email: string | null;
}

export interface TweetCounts {
  likes: number;
  reposts: number;
  comments: number;
  replies: number;
}

export interface Tweet {
  id: string;
  author: UserSummary;
  text: string;
  replyTo: string | null;
  createdAt: string;
  editedAt: string | null;
  counts: TweetCounts;
}

export interface Comment {
  id: string;
  tweetId: string;
  author: UserSummary;
  text: string;
  createdAt: string;
  editedAt: string | null;
}

export const REACTION_KINDS = ['like', 'repost'] as const;
export type ReactionKind = (typeof REACTION_KINDS)[number];

export interface Reaction {
  user: UserSummary;
  kind: ReactionKind;
  createdAt: string;
}

export const NOTIFICATION_KINDS = ['follow', 'like', 'repost', 'comment', 'mention', 'live'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export interface Notification {
  id: string;
  kind: NotificationKind;
  actor: UserSummary;
  tweetId?: string;
  streamId?: string;
  createdAt: string;
  readAt: string | null;
}

export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface AuthResult {
  user: Me;
  accessToken: string;
  refreshToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
}

/* ---- Messaging (DESIGN §6): topics and queues ---- */

/** Topic and queue names: 1–100 of letters, digits, `.`, `_`, `-`, starting with a letter or digit. */
export const MESSAGING_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** A message as sent: JSON data, or base64 bytes with their content type. */
export type MessageInput = { data: unknown } | { bytes: string; contentType: string };

interface MessageBase {
  id: string;
  /** `application/json` for data messages. */
  contentType: string;
  /** User id of the sender. */
  publishedBy: string;
  publishedAt: string;
  /** Present for JSON messages. */
  data?: unknown;
  /** Present for byte messages: base64. */
  bytes?: string;
}

export interface TopicMessage extends MessageBase {
  /** Per-topic, strictly increasing by one from 1. */
  offset: number;
}

export interface QueueMessage extends MessageBase {
  /** Deliveries so far, this one included. */
  attempts: number;
  /** When the lease of a received message ends (it comes back unless acked by then). */
  leaseExpiresAt?: string;
  /** When a dead-lettered message was moved to the dead-letter list. */
  deadAt?: string;
}

/** Access list: user ids, or null for everyone signed in. The owner is always allowed. */
export type AccessList = string[] | null;

export interface Topic {
  id: string;
  name: string;
  ownerId: string;
  publishers: AccessList;
  subscribers: AccessList;
  retention: { maxCount: number; maxAgeSeconds: number };
  /** Offset of the newest message (0 before the first). */
  lastOffset: number;
  createdAt: string;
}

export interface Queue {
  id: string;
  name: string;
  ownerId: string;
  senders: AccessList;
  consumers: AccessList;
  maxAttempts: number;
  counts: { ready: number; leased: number; dead: number };
  createdAt: string;
}

// ---- Request and response shapes of the §3 routes that are not entities (used by the SDK) ----

export interface RegisterRequest {
  handle: string;
  email: string;
  password: string;
  name?: string;
}

/** Exactly one of handle or email. */
export type LoginRequest = { handle: string; email?: never; password: string } | { email: string; handle?: never; password: string };

export interface UpdateMeRequest {
  handle?: string;
  email?: string;
  name?: string;
  bio?: string;
  avatarUrl?: string | null;
  bannerUrl?: string | null;
  website?: string | null;
  location?: string | null;
  birthDate?: string | null;
}

export interface CreateTweetRequest {
  text: string;
  replyTo?: string | null;
}

export interface FollowResult {
  following: boolean;
}

export interface ReactionSummary {
  tweetId: string;
  counts: Record<ReactionKind, number>;
  /** The caller's reactions on this tweet; [] when anonymous. */
  mine: ReactionKind[];
}

export type NotificationPage = Page<Notification> & {
  /** All the caller's unread notifications, whatever the filters. */
  unread: number;
};

export interface MarkReadResult {
  marked: number;
}

export interface PageQuery {
  limit?: number;
  cursor?: string;
}

export interface TweetListQuery extends PageQuery {
  /** Only tweets newer than this id. */
  since_id?: string;
  /** Only tweets with id ≤ this. */
  max_id?: string;
}

export interface NotificationQuery extends PageQuery {
  /** Only notifications newer than this id, oldest first. */
  after?: string;
  unread?: boolean;
}

export interface ReactionQuery extends PageQuery {
  kind?: ReactionKind;
}

// --- Live streams (DESIGN §7) ---

export const STREAM_STATUSES = ['idle', 'live', 'ended'] as const;
/** idle: created, never published; live: a broadcaster is publishing; ended: over for good (the recording plays as VOD). */
export type StreamStatus = (typeof STREAM_STATUSES)[number];

export interface LiveStream {
  id: string;
  owner: UserSummary;
  title: string;
  status: StreamStatus;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  /** Viewers on the socket in room `stream:<id>` right now (0 unless live). */
  viewers: number;
  playback: { hls: string };
}

/** Where a broadcaster publishes: RTMP `${ingest.rtmp}/${streamKey}` (OBS: server and stream key). */
export interface StreamIngest {
  rtmp: string;
  /**
   * Present where WebRTC ingest (mediasoup) is available: the gateway URL whose socket serves the
   * `webrtc:*` signaling events (publish as the stream's owner, signed in on that socket).
   */
  webrtc?: string;
}

/** The answer of POST /v1/streams: the only time the stream key is shown. */
export interface CreatedStream extends LiveStream {
  streamKey: string;
  ingest: StreamIngest;
}
