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

/** What a topic or queue service offers for create, list, show, change and delete. */
interface OwnedService<S> {
  create(ownerId: string, name: string, s: S): Promise<object>;
  list(userId: string, q: { limit: number; cursor?: string }): Promise<object>;
  get(userId: string, name: string): Promise<object>;
  update(userId: string, name: string, s: S): Promise<object>;
  delete(userId: string, name: string): Promise<void>;
}

/** The five routes every owned, named resource has (topics and queues alike). */
function ownedRoutes<S extends object>(o: {
  path: string;
  noun: string;
  access: string;
  extra: string;
  settings: z.ZodObject<z.ZodRawShape, z.core.$strict> & z.ZodType<S>;
  service: OwnedService<S>;
  onDelete: string;
}): Route[] {
  const tag = `${o.noun}s`;
  const one = `${o.path}/:name`;
  return [
    route({
      method: 'POST',
      path: o.path,
      tag,
      summary: `Create a ${o.noun} you own (${o.access}: user ids, or null/absent for everyone)`,
      auth: 'required',
      body: o.settings.extend({ name: messagingName }) as unknown as z.ZodType<S & { name: string }>,
      responses: { 201: `The ${o.noun}`, 400: 'Invalid name or settings', 409: 'Name taken' },
      handler: async ({ principal, body }) => ok(await o.service.create(principal.userId, body.name, body), 201),
    }),
    route({
      method: 'GET',
      path: o.path,
      tag,
      summary: `${o.noun[0]!.toUpperCase()}${o.noun.slice(1)}s you own, may ${o.extra}`,
      auth: 'required',
      query: pageQuery,
      responses: { 200: `A page of ${o.noun}s` },
      handler: async ({ principal, query }) => ok(await o.service.list(principal.userId, query)),
    }),
    route({
      method: 'GET',
      path: one,
      tag,
      summary: `One ${o.noun}`,
      auth: 'required',
      params: nameParams,
      responses: { 200: `The ${o.noun}`, 404: `No such ${o.noun} (or not visible to you)` },
      handler: async ({ principal, params }) => ok(await o.service.get(principal.userId, params.name)),
    }),
    route({
      method: 'PATCH',
      path: one,
      tag,
      summary: `Change the settings of your ${o.noun}`,
      auth: 'required',
      params: nameParams,
      body: o.settings.refine(nonEmpty, 'give at least one field to change') as unknown as z.ZodType<S>,
      responses: { 200: `The ${o.noun}`, 403: 'Not yours', 404: `No such ${o.noun}` },
      handler: async ({ principal, params, body }) => ok(await o.service.update(principal.userId, params.name, body)),
    }),
    route({
      method: 'DELETE',
      path: one,
      tag,
      summary: `Delete your ${o.noun} and its messages (${o.onDelete})`,
      auth: 'required',
      params: nameParams,
      responses: { 204: 'Deleted', 403: 'Not yours', 404: `No such ${o.noun}` },
      handler: async ({ principal, params }) => {
        await o.service.delete(principal.userId, params.name);
        return noContent();
      },
    }),
  ];
}

export function messagingRoutes(d: { topics: TopicService; queues: QueueService }): Route[] {
  return [
    ...ownedRoutes({
      path: '/v1/topics',
      noun: 'topic',
      access: 'publishers/subscribers',
      extra: 'publish to or subscribe to',
      settings: topicSettings,
      service: d.topics,
      onDelete: 'live subscribers get topic:deleted',
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
    ...ownedRoutes({
      path: '/v1/queues',
      noun: 'queue',
      access: 'senders/consumers',
      extra: 'send to or consume from',
      settings: queueSettings,
      service: d.queues,
      onDelete: 'dead letters too; live consumers get queue:deleted',
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
