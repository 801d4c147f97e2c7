import { MESSAGING_NAME_PATTERN } from '@flock/client/protocol';
import { z } from 'zod';
import { noContent, ok, route, type Route } from '../http/route.ts';
import { messagesBody, toInputs } from '../messaging/payload.ts';
import type { QueueService } from '../messaging/queues.ts';
import type { TopicService } from '../messaging/topics.ts';
import { id, limit, pageQuery } from './schemas.ts';

export const messagingName = z.string().regex(MESSAGING_NAME_PATTERN, '1–100 letters, digits, ".", "_" or "-", starting with a letter or digit');
const nameParams = z.object({ name: messagingName });
const accessList = z.array(id).max(1000).nullable().describe('user ids; null: everyone signed in (the owner is always allowed)');
const retention = z.strictObject({
  maxCount: z.number().int().min(1).max(1_000_000_000).optional().describe('keep at most this many newest messages'),
  maxAgeSeconds: z.number().int().min(1).max(10 * 365 * 24 * 3600).optional().describe('drop messages older than this'),
});
const topicSettings = z.strictObject({ publishers: accessList.optional(), subscribers: accessList.optional(), retention: retention.optional() });
const queueSettings = z.strictObject({
  senders: accessList.optional(),
  consumers: accessList.optional(),
  maxAttempts: z.number().int().min(1).max(1000).optional().describe('deliveries before a message is dead-lettered (default 5)'),
});
export const MAX_VISIBILITY_SECONDS = 12 * 3600;
export const visibilitySeconds = z.number().int().min(1).max(MAX_VISIBILITY_SECONDS);
const receiveBody = z
  .strictObject({
    max: z.number().int().min(1).max(100).optional().describe('most messages to lease (default 1)'),
    visibilitySeconds: visibilitySeconds.optional().describe('lease length (default 30)'),
  })
  .optional();
const ackBody = z.strictObject({ ids: z.array(id).min(1).max(1000) });
const nonEmpty = <T extends object>(b: T) => Object.keys(b).length > 0;

export function messagingRoutes(d: { topics: TopicService; queues: QueueService }): Route[] {
  return [
    route({
      method: 'POST',
      path: '/v1/topics',
      tag: 'topics',
      summary: 'Create a topic you own (publishers/subscribers: user ids, or null/absent for everyone)',
      auth: 'required',
      body: topicSettings.extend({ name: messagingName }),
      responses: { 201: 'The topic', 400: 'Invalid name or settings', 409: 'Name taken' },
      handler: async ({ principal, body }) => ok(await d.topics.create(principal.userId, body.name, body), 201),
    }),
    route({
      method: 'GET',
      path: '/v1/topics',
      tag: 'topics',
      summary: 'Topics you own, may publish to or may subscribe to',
      auth: 'required',
      query: pageQuery,
      responses: { 200: 'A page of topics' },
      handler: async ({ principal, query }) => ok(await d.topics.list(principal.userId, query)),
    }),
    route({
      method: 'GET',
      path: '/v1/topics/:name',
      tag: 'topics',
      summary: 'One topic',
      auth: 'required',
      params: nameParams,
      responses: { 200: 'The topic', 404: 'No such topic (or not visible to you)' },
      handler: async ({ principal, params }) => ok(await d.topics.get(principal.userId, params.name)),
    }),
    route({
      method: 'PATCH',
      path: '/v1/topics/:name',
      tag: 'topics',
      summary: 'Change access lists or retention of your topic',
      auth: 'required',
      params: nameParams,
      body: topicSettings.refine(nonEmpty, 'give at least one field to change'),
      responses: { 200: 'The topic', 403: 'Not yours', 404: 'No such topic' },
      handler: async ({ principal, params, body }) => ok(await d.topics.update(principal.userId, params.name, body)),
    }),
    route({
      method: 'DELETE',
      path: '/v1/topics/:name',
      tag: 'topics',
      summary: 'Delete your topic and its messages; live subscribers get topic:deleted',
      auth: 'required',
      params: nameParams,
      responses: { 204: 'Deleted', 403: 'Not yours', 404: 'No such topic' },
      handler: async ({ principal, params }) => {
        await d.topics.delete(principal.userId, params.name);
        return noContent();
      },
    }),
    route({
      method: 'POST',
      path: '/v1/topics/:name/messages',
      tag: 'topics',
      summary: 'Publish {data} or {bytes, contentType}, or {messages: [...]} (up to 500); durable when answered',
      auth: 'required',
      params: nameParams,
      body: messagesBody,
      responses: { 201: '{items: the stored messages with their offsets}', 403: 'Not a publisher', 404: 'No such topic', 413: 'A message is too large' },
      handler: async ({ principal, params, body }) => ok({ items: await d.topics.publish(principal.userId, params.name, toInputs(body)) }, 201),
    }),
    route({
      method: 'GET',
      path: '/v1/topics/:name/messages',
      tag: 'topics',
      summary: 'Retained messages with offset > after, oldest first',
      auth: 'required',
      params: nameParams,
      query: z.object({ after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0).describe('an offset'), limit }),
      responses: { 200: '{items, next}: next is the offset to pass as after', 403: 'Not a subscriber', 404: 'No such topic' },
      handler: async ({ principal, params, query }) => ok(await d.topics.read(principal.userId, params.name, query.after, query.limit)),
    }),
    route({
      method: 'POST',
      path: '/v1/queues',
      tag: 'queues',
      summary: 'Create a queue you own (senders/consumers: user ids, or null/absent for everyone)',
      auth: 'required',
      body: queueSettings.extend({ name: messagingName }),
      responses: { 201: 'The queue', 400: 'Invalid name or settings', 409: 'Name taken' },
      handler: async ({ principal, body }) => ok(await d.queues.create(principal.userId, body.name, body), 201),
    }),
    route({
      method: 'GET',
      path: '/v1/queues',
      tag: 'queues',
      summary: 'Queues you own, may send to or may consume from',
      auth: 'required',
      query: pageQuery,
      responses: { 200: 'A page of queues' },
      handler: async ({ principal, query }) => ok(await d.queues.list(principal.userId, query)),
    }),
    route({
      method: 'GET',
      path: '/v1/queues/:name',
      tag: 'queues',
      summary: 'One queue, with its ready, leased and dead message counts',
      auth: 'required',
      params: nameParams,
      responses: { 200: 'The queue', 404: 'No such queue (or not visible to you)' },
      handler: async ({ principal, params }) => ok(await d.queues.get(principal.userId, params.name)),
    }),
    route({
      method: 'PATCH',
      path: '/v1/queues/:name',
      tag: 'queues',
      summary: 'Change access lists or maxAttempts of your queue',
      auth: 'required',
      params: nameParams,
      body: queueSettings.refine(nonEmpty, 'give at least one field to change'),
      responses: { 200: 'The queue', 403: 'Not yours', 404: 'No such queue' },
      handler: async ({ principal, params, body }) => ok(await d.queues.update(principal.userId, params.name, body)),
    }),
    route({
      method: 'DELETE',
      path: '/v1/queues/:name',
      tag: 'queues',
      summary: 'Delete your queue and its messages (dead letters too); live consumers get queue:deleted',
      auth: 'required',
      params: nameParams,
      responses: { 204: 'Deleted', 403: 'Not yours', 404: 'No such queue' },
      handler: async ({ principal, params }) => {
        await d.queues.delete(principal.userId, params.name);
        return noContent();
      },
    }),
    route({
      method: 'POST',
      path: '/v1/queues/:name/messages',
      tag: 'queues',
      summary: 'Send {data} or {bytes, contentType}, or {messages: [...]} (up to 500); durable when answered',
      auth: 'required',
      params: nameParams,
      body: messagesBody,
      responses: { 201: '{items: the stored messages}', 403: 'Not a sender', 404: 'No such queue', 413: 'A message is too large' },
      handler: async ({ principal, params, body }) => ok({ items: await d.queues.send(principal.userId, params.name, toInputs(body)) }, 201),
    }),
    route({
      method: 'POST',
      path: '/v1/queues/:name/receive',
      tag: 'queues',
      summary: 'Lease up to max visible messages for visibilitySeconds; ack them before the lease ends or they come back',
      auth: 'required',
      params: nameParams,
      body: receiveBody,
      responses: { 200: '{items} (empty when nothing is ready)', 403: 'Not a consumer', 404: 'No such queue' },
      handler: async ({ principal, params, body }) => {
        const lease = await d.queues.receive(principal.userId, params.name, body?.max ?? 1, body?.visibilitySeconds ?? 30);
        return ok({ items: lease.items });
      },
    }),
    route({
      method: 'POST',
      path: '/v1/queues/:name/ack',
      tag: 'queues',
      summary: 'Acknowledge (delete) leased messages whose lease is still running',
      auth: 'required',
      params: nameParams,
      body: ackBody,
      responses: { 200: '{acked, missing}', 403: 'Not a consumer', 404: 'No such queue' },
      handler: async ({ principal, params, body }) => ok(await d.queues.ack(principal.userId, params.name, body.ids)),
    }),
    route({
      method: 'GET',
      path: '/v1/queues/:name/dead-letters',
      tag: 'queues',
      summary: 'Messages that reached maxAttempts without an ack, oldest first',
      auth: 'required',
      params: nameParams,
      query: pageQuery,
      responses: { 200: 'A page of dead letters', 403: 'Not a consumer', 404: 'No such queue' },
      handler: async ({ principal, params, query }) => ok(await d.queues.deadLetters(principal.userId, params.name, query)),
    }),
    route({
      method: 'POST',
      path: '/v1/queues/:name/dead-letters/redrive',
      tag: 'queues',
      summary: 'Put dead letters (ids, or all) back on the queue with attempts reset; owner only',
      auth: 'required',
      params: nameParams,
      body: z.strictObject({ ids: z.array(id).min(1).max(1000).optional() }).optional(),
      responses: { 200: '{redriven: n}', 403: 'Not yours', 404: 'No such queue' },
      handler: async ({ principal, params, body }) => ok(await d.queues.redrive(principal.userId, params.name, body?.ids)),
    }),
  ];
}
