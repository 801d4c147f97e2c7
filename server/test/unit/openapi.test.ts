import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildOpenApi } from '../../src/http/openapi.ts';
import { noContent, ok, route } from '../../src/http/route.ts';

const routes = [
  route({
    method: 'GET',
    path: '/v1/users/:handle',
    summary: 'A user profile',
    tag: 'users',
    auth: 'optional',
    params: z.object({ handle: z.string().regex(/^[A-Za-z0-9_]{1,15}$/) }),
    responses: { 200: 'The user', 404: 'No such user' },
    handler: async ({ params }) => ok({ handle: params.handle }),
  }),
  route({
    method: 'POST',
    path: '/v1/tweets',
    summary: 'Post a tweet',
    tag: 'tweets',
    auth: 'required',
    body: z.strictObject({ text: z.string().min(1).max(1000), replyTo: z.string().optional() }),
    responses: { 201: 'Created', 400: 'Invalid body', 401: 'Not signed in' },
    handler: async ({ body }) => ok({ text: body.text }, 201),
  }),
  route({
    method: 'DELETE',
    path: '/v1/tweets/:id/reactions/:kind',
    summary: 'Remove a reaction',
    tag: 'tweets',
    auth: 'required',
    params: z.object({ id: z.string(), kind: z.enum(['like', 'repost']) }),
    responses: { 204: 'Removed' },
    handler: async () => noContent(),
  }),
  route({
    method: 'GET',
    path: '/v1/timeline/home',
    summary: 'Home timeline',
    tag: 'timelines',
    auth: 'required',
    query: z.object({ limit: z.string().optional(), since_id: z.string() }),
    responses: { 200: 'A page' },
    handler: async () => ok({ items: [], next: null }),
  }),
  route({
    method: 'GET',
    path: '/healthz',
    summary: 'Process up',
    tag: 'ops',
    auth: 'none',
    responses: { 200: 'Up' },
    handler: async () => ok('ok'),
  }),
];

interface Operation {
  summary: string;
  tags: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
  requestBody?: { required: boolean; content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: { $ref: string } }> }>;
}

interface Doc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
}

// A round trip through JSON: what GET /openapi.json actually serves.
const doc = JSON.parse(JSON.stringify(buildOpenApi(routes, { title: 'Flock test', version: '9.9.9' }))) as Doc;

const op = (path: string, method: string): Operation => {
  const o = doc.paths[path]?.[method];
  if (!o) throw new Error(`no operation ${method} ${path} in ${JSON.stringify(Object.keys(doc.paths))}`);
  return o;
};

describe('buildOpenApi', () => {
  it('produces an OpenAPI 3.1 document with the given info', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toEqual({ title: 'Flock test', version: '9.9.9' });
  });

  it('writes path params in OpenAPI form {param}', () => {
    expect(Object.keys(doc.paths).sort()).toEqual(
      ['/healthz', '/v1/timeline/home', '/v1/tweets', '/v1/tweets/{id}/reactions/{kind}', '/v1/users/{handle}'].sort(),
    );
    expect(JSON.stringify(doc.paths)).not.toMatch(/\/:\w/);
  });

  it('documents each path param as required, with its schema', () => {
    expect(op('/v1/users/{handle}', 'get').parameters).toEqual([
      { name: 'handle', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_]{1,15}$' } },
    ]);
    const params = op('/v1/tweets/{id}/reactions/{kind}', 'delete').parameters ?? [];
    expect(params.map((p) => [p.name, p.in, p.required])).toEqual([
      ['id', 'path', true],
      ['kind', 'path', true],
    ]);
    expect(params[1]!.schema).toMatchObject({ enum: ['like', 'repost'] });
  });

  it('documents query params, required only when the schema requires them', () => {
    const params = op('/v1/timeline/home', 'get').parameters ?? [];
    expect(params.map((p) => [p.name, p.in, p.required])).toEqual([
      ['limit', 'query', false],
      ['since_id', 'query', true],
    ]);
  });

  it('documents the request body from the validating schema; a strict object forbids extra properties', () => {
    const body = op('/v1/tweets', 'post').requestBody;
    expect(body?.required).toBe(true);
    const schema = body?.content['application/json']?.schema;
    expect(schema).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: ['text'],
      properties: { text: { type: 'string', minLength: 1, maxLength: 1000 }, replyTo: { type: 'string' } },
    });
    expect(schema).not.toHaveProperty('$schema');
  });

  it('has no request body or parameters where the route takes none', () => {
    expect(op('/healthz', 'get')).not.toHaveProperty('requestBody');
    expect(op('/healthz', 'get')).not.toHaveProperty('parameters');
  });

  it('marks auth: required routes with bearer security, optional with an anonymous alternative, none without', () => {
    expect(op('/v1/tweets', 'post').security).toEqual([{ bearer: [] }]);
    expect(op('/v1/users/{handle}', 'get').security).toEqual([{ bearer: [] }, {}]);
    expect(op('/healthz', 'get')).not.toHaveProperty('security');
    expect(doc.components.securitySchemes).toHaveProperty('bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  });

  it('describes error responses with the shared error schema', () => {
    const responses = op('/v1/tweets', 'post').responses;
    expect(Object.keys(responses).sort()).toEqual(['201', '400', '401']);
    expect(responses['201']).toEqual({ description: 'Created' });
    expect(responses['400']?.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/Error' });
    expect(doc.components.schemas).toHaveProperty('Error');
  });

  it('keeps summary and tag of each operation', () => {
    expect(op('/v1/users/{handle}', 'get')).toMatchObject({ summary: 'A user profile', tags: ['users'] });
  });

  it('puts several methods of one path under one path item', () => {
    const withTwo = buildOpenApi(
      [
        route({ method: 'GET', path: '/v1/tweets/:id', summary: 'get', tag: 't', auth: 'none', responses: { 200: 'ok' }, handler: async () => ok({}) }),
        route({ method: 'DELETE', path: '/v1/tweets/:id', summary: 'del', tag: 't', auth: 'required', responses: { 204: 'gone' }, handler: async () => noContent() }),
      ],
      { title: 't', version: '1' },
    ) as unknown as Doc;
    expect(Object.keys(withTwo.paths)).toEqual(['/v1/tweets/{id}']);
    expect(Object.keys(withTwo.paths['/v1/tweets/{id}'] ?? {}).sort()).toEqual(['delete', 'get']);
  });
});
