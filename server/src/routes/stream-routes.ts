import { z } from 'zod';
import type { StreamService } from '../domain/streams.ts';
import { noContent, ok, route, type Route } from '../http/route.ts';
import { graphemeText, idParams, pageQuery } from './schemas.ts';

/** What the stream routes ask of the media service (in-process, or a media worker over Redis). */
export interface MediaControl {
  /** Ends a live ingest: the broadcaster is cut off, the playlist closed. Idempotent. */
  stop(streamId: string): Promise<void>;
  /** Removes the stream's HLS output. */
  remove(streamId: string): Promise<void>;
}

const createStream = z.strictObject({ title: graphemeText(100) });

export function streamRoutes(d: { streams: StreamService; media: MediaControl }): Route[] {
  return [
    route({
      method: 'POST',
      path: '/v1/streams',
      tag: 'streams',
      summary: 'Create a live stream; the answer holds the stream key (shown only here) and the ingest and playback URLs',
      auth: 'required',
      body: createStream,
      responses: { 201: 'The stream with its key', 400: 'Invalid title' },
      handler: async ({ principal, body }) => ok(await d.streams.create(principal.userId, body.title), 201),
    }),
    route({
      method: 'GET',
      path: '/v1/streams/:id',
      tag: 'streams',
      summary: 'One stream (never its key)',
      auth: 'optional',
      params: idParams,
      responses: { 200: 'The stream', 404: 'No such stream' },
      handler: async ({ params }) => ok(await d.streams.get(params.id)),
    }),
    route({
      method: 'GET',
      path: '/v1/streams',
      tag: 'streams',
      summary: 'Streams, newest first; live=true lists only those on air',
      auth: 'optional',
      query: pageQuery.extend({ live: z.enum(['true', 'false']).optional().describe('only live streams') }),
      responses: { 200: 'A page of streams' },
      handler: async ({ query }) => ok(await d.streams.list({ limit: query.limit, cursor: query.cursor, live: query.live === 'true' })),
    }),
    route({
      method: 'DELETE',
      path: '/v1/streams/:id',
      tag: 'streams',
      summary: 'Delete your stream: a live ingest is stopped and its HLS output removed',
      auth: 'required',
      params: idParams,
      responses: { 204: 'Deleted', 403: 'Not yours', 404: 'No such stream' },
      handler: async ({ principal, params }) => {
        const status = await d.streams.delete(principal.userId, params.id);
        if (status === 'live') await d.media.stop(params.id);
        await d.media.remove(params.id);
        return noContent();
      },
    }),
  ];
}
