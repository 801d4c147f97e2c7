import type { MessageInput } from '@flock/client/protocol';
import { z } from 'zod';
import { FlockError } from '../errors.ts';

/** Most messages one publish or send call takes (`{messages: […]}`). */
export const MAX_BATCH = 500;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The media type of a JSON message. */
export const JSON_TYPE = 'application/json';

export const messageInput = z.union([
  z.strictObject({ data: z.unknown().refine((v) => v !== undefined, 'data is required (any JSON value)') }),
  z.strictObject({
    bytes: z.string().regex(BASE64, 'expected standard base64 (A–Z a–z 0–9 + /, padded with =)').describe('base64'),
    contentType: z.string().min(1).max(255).regex(/^[\x21-\x7e][\x20-\x7e]*$/, 'expected a printable ASCII media type such as image/png'),
  }),
]);

/** A publish or send body: one message, or `{messages: [...]}` with up to MAX_BATCH of them. */
export const messagesBody = z.union([messageInput, z.strictObject({ messages: z.array(messageInput).min(1).max(MAX_BATCH) })]);

export type MessagesBody = z.infer<typeof messagesBody>;

export const toInputs = (body: MessagesBody): MessageInput[] => ('messages' in body ? body.messages : [body]) as MessageInput[];

/** A message ready for the database: JSON text or base64 (decoded by SQL), never both. */
export interface StoredPayload {
  json: string | null;
  base64: string | null;
  contentType: string;
}

/** Checks every message against the size limit (bytes of the JSON text, or decoded bytes) and prepares it. */
export function preparePayloads(inputs: MessageInput[], maxBytes: number): StoredPayload[] {
  return inputs.map((m, index) => {
    let p: StoredPayload;
    let size: number;
    if ('bytes' in m) {
      p = { json: null, base64: m.bytes, contentType: m.contentType };
      size = (m.bytes.length / 4) * 3 - (m.bytes.endsWith('==') ? 2 : m.bytes.endsWith('=') ? 1 : 0);
    } else {
      p = { json: JSON.stringify(m.data), base64: null, contentType: JSON_TYPE };
      size = Buffer.byteLength(p.json!);
    }
    if (size > maxBytes) {
      throw new FlockError('FLOCK_ERR_PAYLOAD_TOO_LARGE', `Message ${index} has ${size} bytes; the limit is ${maxBytes}`, { index, bytes: size, maxBytes });
    }
    return p;
  });
}

/** Columns of a stored message, as both message tables name them. */
export const PAYLOAD_COLUMNS = 'id, data, bytes, content_type, published_by, published_at';

export interface PayloadRow {
  id: string;
  data: unknown;
  bytes: Uint8Array | null;
  content_type: string;
  published_by: string;
  published_at: Date;
}

/** The wire fields every message has; byte payloads go back out as base64. */
export function toMessageBase(r: PayloadRow) {
  return {
    id: r.id,
    ...(r.bytes ? { bytes: Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength).toString('base64') } : { data: r.data }),
    contentType: r.content_type,
    publishedBy: r.published_by,
    publishedAt: r.published_at.toISOString(),
  };
}

/** Arrays for `unnest(...)`: one bulk INSERT per batch instead of one statement per message. */
export function payloadArrays(payloads: StoredPayload[]) {
  return {
    json: payloads.map((p) => p.json),
    base64: payloads.map((p) => p.base64),
    contentType: payloads.map((p) => p.contentType),
  };
}
