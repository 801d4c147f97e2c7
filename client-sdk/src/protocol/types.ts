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
  /** Present where WebRTC ingest (mediasoup) is available. */
  webrtc?: string;
}

/** The answer of POST /v1/streams: the only time the stream key is shown. */
export interface CreatedStream extends LiveStream {
  streamKey: string;
  ingest: StreamIngest;
}
