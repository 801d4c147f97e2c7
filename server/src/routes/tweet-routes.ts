import { REACTION_KINDS } from '@flock/client/protocol';
import { z } from 'zod';
import type { CommentService } from '../domain/comments.ts';
import { listNotifications, markRead, unreadCount } from '../domain/notifications.ts';
import type { ReactionService } from '../domain/reactions.ts';
import type { TweetService } from '../domain/tweets.ts';
import type { Database } from '../db/database.ts';
import { noContent, ok, route, type Route } from '../http/route.ts';
import { JsonText } from '../http/types.ts';
import { id, idParams, limit, pageQuery, reactionParams, toTimelineQuery, tweetListQuery, tweetText } from './schemas.ts';

const createTweet = z.strictObject({ text: tweetText, replyTo: id.nullable().optional() });
const editText = z.strictObject({ text: tweetText });


export function tweetRoutes(d: { db: Database; tweets: TweetService; comments: CommentService; reactions: ReactionService }): Route[] {
  return [
    route({
      method: 'POST',
      path: '/v1/tweets',
      tag: 'tweets',
      summary: 'Post a tweet (1–280 grapheme clusters), optionally as a reply',
      auth: 'required',
      body: createTweet,
      responses: { 201: 'The tweet', 400: 'Invalid text', 404: 'replyTo does not exist', 429: 'Tweet limit reached' },
      handler: async ({ principal, body }) => ok(await d.tweets.create(principal.userId, body.text, body.replyTo ?? null), 201),
    }),
    route({
      method: 'GET',
      path: '/v1/tweets/:id',
      tag: 'tweets',
      summary: 'One tweet',
      auth: 'optional',
      params: idParams,
      responses: { 200: 'The tweet', 404: 'No such tweet (or deleted)' },
      handler: async ({ params }) => ok(await d.tweets.get(params.id)),
    }),
    route({
      method: 'PATCH',
      path: '/v1/tweets/:id',
      tag: 'tweets',
      summary: 'Edit your tweet',
      auth: 'required',
      params: idParams,
      body: editText,
      responses: { 200: 'The edited tweet', 403: 'Not yours', 404: 'No such tweet' },
      handler: async ({ principal, params, body }) => ok(await d.tweets.edit(principal.userId, params.id, body.text)),
    }),
    route({
      method: 'DELETE',
      path: '/v1/tweets/:id',
      tag: 'tweets',
      summary: 'Delete your tweet',
      auth: 'required',
      params: idParams,
      responses: { 204: 'Deleted', 403: 'Not yours', 404: 'No such tweet' },
      handler: async ({ principal, params }) => {
        await d.tweets.delete(principal.userId, params.id);
        return noContent();
      },
    }),
    route({
      method: 'POST',
      path: '/v1/tweets/:id/comments',
      tag: 'comments',
      summary: 'Comment on a tweet',
      auth: 'required',
      params: idParams,
      body: editText,
      responses: { 201: 'The comment', 404: 'No such tweet' },
      handler: async ({ principal, params, body }) => ok(await d.comments.create(principal.userId, params.id, body.text), 201),
    }),
    route({
      method: 'GET',
      path: '/v1/tweets/:id/comments',
      tag: 'comments',
      summary: "A tweet's comments, oldest first",
      auth: 'optional',
      params: idParams,
      query: pageQuery,
      responses: { 200: 'A page of comments', 404: 'No such tweet' },
      handler: async ({ params, query }) => ok(await d.comments.list(params.id, query)),
    }),
    route({
      method: 'PATCH',
      path: '/v1/comments/:id',
      tag: 'comments',
      summary: 'Edit your comment',
      auth: 'required',
      params: idParams,
      body: editText,
      responses: { 200: 'The comment', 403: 'Not yours', 404: 'No such comment' },
      handler: async ({ principal, params, body }) => ok(await d.comments.edit(principal.userId, params.id, body.text)),
    }),
    route({
      method: 'DELETE',
      path: '/v1/comments/:id',
      tag: 'comments',
      summary: 'Delete your comment',
      auth: 'required',
      params: idParams,
      responses: { 204: 'Deleted', 403: 'Not yours', 404: 'No such comment' },
      handler: async ({ principal, params }) => {
        await d.comments.delete(principal.userId, params.id);
        return noContent();
      },
    }),
    route({
      method: 'PUT',
      path: '/v1/tweets/:id/reactions/:kind',
      tag: 'reactions',
      summary: `React to a tweet (${REACTION_KINDS.join(' | ')}); idempotent`,
      auth: 'required',
      params: reactionParams,
      responses: { 200: 'Reaction counts and yours', 400: 'Unknown kind', 404: 'No such tweet' },
      handler: async ({ principal, params }) => ok(await d.reactions.add(principal.userId, params.id, params.kind)),
    }),
    route({
      method: 'DELETE',
      path: '/v1/tweets/:id/reactions/:kind',
      tag: 'reactions',
      summary: 'Take a reaction back; idempotent',
      auth: 'required',
      params: reactionParams,
      responses: { 200: 'Reaction counts and yours', 404: 'No such tweet' },
      handler: async ({ principal, params }) => ok(await d.reactions.remove(principal.userId, params.id, params.kind)),
    }),
    route({
      method: 'GET',
      path: '/v1/tweets/:id/reactions',
      tag: 'reactions',
      summary: 'Reaction counts, yours, and who reacted (newest first)',
      auth: 'optional',
      params: idParams,
      query: pageQuery.extend({ kind: z.enum(REACTION_KINDS).optional() }),
      responses: { 200: 'Counts and a page of reactions', 404: 'No such tweet' },
      handler: async ({ principal, params, query }) => ok(await d.reactions.list(params.id, principal?.userId ?? null, query)),
    }),
    route({
      method: 'GET',
      path: '/v1/timeline/home',
      tag: 'timelines',
      summary: 'Tweets of the people you follow and yours, newest first; since_id catches up after a reconnect',
      auth: 'required',
      query: tweetListQuery,
      responses: { 200: 'A page of tweets', 401: 'Not authenticated' },
      // JSON text built from the cached bodies' JSON (docs/timelines.md): the same bytes as the page serialized.
      handler: async ({ principal, query }) => ok(new JsonText(await d.tweets.homeJson(principal.userId, toTimelineQuery(query)))),
    }),
    route({
      method: 'GET',
      path: '/v1/notifications',
      tag: 'notifications',
      summary: 'Your notifications: newest first, or with `after` only newer ones, oldest first',
      auth: 'required',
      query: z.object({
        limit,
        cursor: id.optional(),
        after: id.optional().describe('only notifications newer than this id, oldest first'),
        unread: z.enum(['true', 'false']).optional().describe('only unread ones'),
      }),
      responses: { 200: 'A page of notifications and the unread count' },
      handler: async ({ principal, query }) => {
        const [list, unread] = await Promise.all([
          listNotifications(d.db, principal.userId, { limit: query.limit, cursor: query.cursor, after: query.after, unreadOnly: query.unread === 'true' }),
          unreadCount(d.db, principal.userId),
        ]);
        return ok({ ...list, unread });
      },
    }),
    route({
      method: 'POST',
      path: '/v1/notifications/read',
      tag: 'notifications',
      summary: 'Mark your notifications up to and including id `upTo` as read',
      auth: 'required',
      body: z.strictObject({ upTo: id }),
      responses: { 200: '{marked: n}' },
      handler: async ({ principal, body }) => ok({ marked: await markRead(d.db, principal.userId, body.upTo) }),
    }),
  ];
}
