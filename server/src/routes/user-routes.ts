import { z } from 'zod';
import type { FollowService } from '../domain/follows.ts';
import type { TweetService } from '../domain/tweets.ts';
import type { UserService } from '../domain/users.ts';
import { noContent, ok, route, type Route } from '../http/route.ts';
import { birthDate, email, graphemeText, handleParams, newHandle, nullableUrl, pageQuery, toTimelineQuery, tweetListQuery } from './schemas.ts';

const patchBody = z
  .strictObject({
    handle: newHandle.optional(),
    email: email.optional(),
    name: graphemeText(50, 0).optional(),
    bio: graphemeText(160, 0).optional(),
    avatarUrl: nullableUrl.optional(),
    bannerUrl: nullableUrl.optional(),
    website: nullableUrl.optional(),
    location: graphemeText(30, 0).nullable().optional(),
    birthDate: birthDate.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'give at least one field to change');


export function userRoutes(d: { users: UserService; follows: FollowService; tweets: TweetService }): Route[] {
  return [
    route({
      method: 'GET',
      path: '/v1/users/me',
      tag: 'users',
      summary: 'Your own account, with private fields',
      auth: 'required',
      responses: { 200: 'Your account', 401: 'Not authenticated' },
      handler: async ({ principal }) => ok(await d.users.me(principal.userId)),
    }),
    route({
      method: 'PATCH',
      path: '/v1/users/me',
      tag: 'users',
      summary: 'Change your profile (handle, email, name, bio, avatarUrl, bannerUrl, website, location, birthDate)',
      auth: 'required',
      body: patchBody,
      responses: { 200: 'The updated account', 400: 'Invalid field', 409: 'Handle or email taken' },
      handler: async ({ principal, body }) => ok(await d.users.update(principal.userId, body)),
    }),
    route({
      method: 'DELETE',
      path: '/v1/users/me',
      tag: 'users',
      summary: 'Delete your account and everything it owns',
      auth: 'required',
      responses: { 204: 'Deleted', 401: 'Not authenticated' },
      handler: async ({ principal }) => {
        await d.users.delete(principal.userId);
        return noContent();
      },
    }),
    route({
      method: 'GET',
      path: '/v1/users/:handle',
      tag: 'users',
      summary: 'A public profile (with isFollowing when signed in)',
      auth: 'optional',
      params: handleParams,
      responses: { 200: 'The profile', 404: 'No such user' },
      handler: async ({ params, principal }) => ok(await d.users.getByHandle(params.handle, principal?.userId ?? null)),
    }),
    route({
      method: 'GET',
      path: '/v1/users/:handle/tweets',
      tag: 'users',
      summary: "A user's tweets, newest first",
      auth: 'optional',
      params: handleParams,
      query: tweetListQuery,
      responses: { 200: 'A page of tweets', 404: 'No such user' },
      handler: async ({ params, query }) => ok(await d.tweets.listByAuthor(params.handle, toTimelineQuery(query))),
    }),
    route({
      method: 'GET',
      path: '/v1/users/:handle/followers',
      tag: 'follows',
      summary: 'Who follows this user, newest first',
      auth: 'optional',
      params: handleParams,
      query: pageQuery,
      responses: { 200: 'A page of users', 404: 'No such user' },
      handler: async ({ params, query }) => ok(await d.users.listFollows(params.handle, 'followers', query)),
    }),
    route({
      method: 'GET',
      path: '/v1/users/:handle/following',
      tag: 'follows',
      summary: 'Whom this user follows, newest first',
      auth: 'optional',
      params: handleParams,
      query: pageQuery,
      responses: { 200: 'A page of users', 404: 'No such user' },
      handler: async ({ params, query }) => ok(await d.users.listFollows(params.handle, 'following', query)),
    }),
    route({
      method: 'PUT',
      path: '/v1/users/:handle/follow',
      tag: 'follows',
      summary: 'Follow a user (idempotent)',
      auth: 'required',
      params: handleParams,
      responses: { 200: '{following: true}', 400: 'Yourself', 404: 'No such user' },
      handler: async ({ params, principal }) => ok({ following: (await d.follows.follow(principal.userId, params.handle)).following }),
    }),
    route({
      method: 'DELETE',
      path: '/v1/users/:handle/follow',
      tag: 'follows',
      summary: 'Unfollow a user (idempotent)',
      auth: 'required',
      params: handleParams,
      responses: { 200: '{following: false}', 404: 'No such user' },
      handler: async ({ params, principal }) => ok({ following: (await d.follows.unfollow(principal.userId, params.handle)).following }),
    }),
  ];
}
