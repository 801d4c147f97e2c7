import { z } from 'zod';
import type { Route } from './route.ts';

function schemaOf(s: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/** OpenAPI 3.1 document generated from the very schemas that validate requests. */
export function buildOpenApi(routes: readonly Route[], info: { title: string; version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const p = r.path.replace(/:(\w+)/g, '{$1}');
    const parameters: unknown[] = [];
    if (r.params) {
      const s = schemaOf(r.params, 'input') as { properties?: Record<string, unknown> };
      for (const [name, schema] of Object.entries(s.properties ?? {})) parameters.push({ name, in: 'path', required: true, schema });
    }
    if (r.query) {
      const s = schemaOf(r.query, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(s.properties ?? {})) {
        parameters.push({ name, in: 'query', required: s.required?.includes(name) ?? false, schema });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, description] of Object.entries(r.responses)) {
      responses[status] =
        Number(status) >= 400
          ? { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }
          : { description };
    }
    (paths[p] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      tags: [r.tag],
      ...(r.auth === 'required' ? { security: [{ bearer: [] }] } : r.auth === 'optional' ? { security: [{ bearer: [] }, {}] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(r.body, 'input') } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string', pattern: '^FLOCK_ERR_' }, message: { type: 'string' }, details: {} },
            },
          },
        },
      },
    },
  };
}
