import type { HlsOrigin, OriginAnswer } from '@flock/media';
import { z } from 'zod';
import { FlockError, notFound } from '../errors.ts';
import type { HttpResponse } from '../http/types.ts';
import { route, type Route } from '../http/route.ts';
import { id } from './schemas.ts';

function answer(a: OriginAnswer): HttpResponse {
  switch (a.kind) {
    case 'file':
      return { status: 200, headers: a.headers, body: a.bytes };
    case 'bad-request':
      throw new FlockError('FLOCK_ERR_VALIDATION', a.message);
    case 'timeout':
      throw new FlockError('FLOCK_ERR_UNAVAILABLE', 'The requested part did not appear in time; reload the playlist');
    case 'not-found':
      throw notFound('No such HLS file');
  }
}

const name = z.string().max(64);
const hlsQuery = z.object({ _HLS_msn: z.string().max(16).optional(), _HLS_part: z.string().max(16).optional() }).catchall(z.string());

/** The HLS origin on the gateway's port: `/hls/<streamId>/master.m3u8` and `/hls/<streamId>/<rendition>/<file>`. */
export function hlsRoutes(d: { origin: HlsOrigin }): Route[] {
  return [
    route({
      method: 'GET',
      path: '/hls/:id/:file',
      tag: 'live video',
      summary: 'Multivariant playlist of a stream (master.m3u8)',
      auth: 'none',
      params: z.object({ id, file: name }),
      responses: { 200: 'The playlist', 404: 'No such stream or file' },
      handler: async ({ params, req }) => answer(await d.origin.serve(params.id, null, params.file, req.query)),
    }),
    route({
      method: 'GET',
      path: '/hls/:id/:rendition/:file',
      tag: 'live video',
      summary: 'Media playlist (blocking reload with _HLS_msn/_HLS_part), init segment, segment or part of a rendition',
      auth: 'none',
      params: z.object({ id, rendition: name, file: name }),
      query: hlsQuery,
      responses: { 200: 'The file', 400: 'Invalid _HLS_msn/_HLS_part', 404: 'No such stream or file', 503: 'Blocking reload timed out' },
      handler: async ({ params, req }) => answer(await d.origin.serve(params.id, params.rendition, params.file, req.query)),
    }),
  ];
}
