import type { Comment, Me, Notification, NotificationKind, Tweet, User, UserSummary } from '@flock/client/protocol';
import { TWEETS_COUNT_COLUMN } from './tweet-counts.ts';

/** Columns selected for a user everywhere, so every query maps the same way (users aliased `u`; the tweet count as tweet-counts.ts reads it). */
export const USER_COLUMNS = `u.id, u.handle, u.name, u.avatar_url, u.bio, u.banner_url, u.website, u.location,
  to_char(u.birth_date, 'YYYY-MM-DD') AS birth_date, u.created_at, u.followers_count, u.following_count, ${TWEETS_COUNT_COLUMN}, u.email`;

export interface UserRow {
  id: string;
  handle: string;
  name: string;
  avatar_url: string | null;
  bio: string;
  banner_url: string | null;
  website: string | null;
  location: string | null;
  birth_date: string | null;
  created_at: Date;
  followers_count: number;
  following_count: number;
  tweets_count: number;
  email: string | null;
}

export const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toUser(r: UserRow): User {
  return {
    id: r.id,
    handle: r.handle,
    name: r.name,
    avatarUrl: r.avatar_url,
    bio: r.bio,
    bannerUrl: r.banner_url,
    website: r.website,
    location: r.location,
    birthDate: r.birth_date,
    createdAt: r.created_at.toISOString(),
    counts: { followers: r.followers_count, following: r.following_count, tweets: r.tweets_count },
  };
}

export const toMe = (r: UserRow): Me => ({ ...toUser(r), email: r.email });

/** Author columns joined as `a_*` from users aliased `a`. */
export const AUTHOR_COLUMNS = 'a.id AS a_id, a.handle AS a_handle, a.name AS a_name, a.avatar_url AS a_avatar_url';

export interface AuthorCols {
  a_id: string;
  a_handle: string;
  a_name: string;
  a_avatar_url: string | null;
}

export const toSummary = (r: AuthorCols): UserSummary => ({ id: r.a_id, handle: r.a_handle, name: r.a_name, avatarUrl: r.a_avatar_url });

export const TWEET_COLUMNS = `t.id, t.text, t.reply_to_id, t.created_at, t.edited_at, t.like_count, t.repost_count,
  t.comment_count, t.reply_count, ${AUTHOR_COLUMNS}`;

export interface TweetRow extends AuthorCols {
  id: string;
  text: string;
  reply_to_id: string | null;
  created_at: Date;
  edited_at: Date | null;
  like_count: number;
  repost_count: number;
  comment_count: number;
  reply_count: number;
}

export function toTweet(r: TweetRow): Tweet {
  return {
    id: r.id,
    author: toSummary(r),
    text: r.text,
    replyTo: r.reply_to_id,
    createdAt: r.created_at.toISOString(),
    editedAt: iso(r.edited_at),
    counts: { likes: r.like_count, reposts: r.repost_count, comments: r.comment_count, replies: r.reply_count },
  };
}

export interface CommentRow extends AuthorCols {
  id: string;
  tweet_id: string;
  text: string;
  created_at: Date;
  edited_at: Date | null;
}

export const toComment = (r: CommentRow): Comment => ({
  id: r.id,
  tweetId: r.tweet_id,
  author: toSummary(r),
  text: r.text,
  createdAt: r.created_at.toISOString(),
  editedAt: iso(r.edited_at),
});

export interface NotificationRow extends AuthorCols {
  id: string;
  kind: NotificationKind;
  tweet_id: string | null;
  stream_id: string | null;
  created_at: Date;
  read_at: Date | null;
}

export const toNotification = (r: NotificationRow): Notification => ({
  id: r.id,
  kind: r.kind,
  actor: toSummary(r),
  ...(r.tweet_id ? { tweetId: r.tweet_id } : {}),
  ...(r.stream_id ? { streamId: r.stream_id } : {}),
  createdAt: r.created_at.toISOString(),
  readAt: iso(r.read_at),
});

/** Takes `limit + 1` rows and turns them into a page whose cursor is the last item's key. */
export function page<R, T>(rows: R[], limit: number, map: (r: R) => T, key: (r: R) => string): { items: T[]; next: string | null } {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { items: kept.map(map), next: more && kept.length > 0 ? key(kept[kept.length - 1]!) : null };
}
