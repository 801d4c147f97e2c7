import { countGraphemes, HANDLE_PATTERN, MAX_TWEET_GRAPHEMES, REACTION_KINDS } from '@flock/client/protocol';
import { z } from 'zod';
import { isId } from '../ids.ts';

/** Request schemas shared by routes; the same objects produce /openapi.json. */

export const id = z.string().refine(isId, 'expected a decimal id').describe('64-bit id as a decimal string');

export const handle = z.string().regex(HANDLE_PATTERN, '1–15 letters, digits or underscores');

/** Handles that would collide with route names. */
export const RESERVED_HANDLES: ReadonlySet<string> = new Set(['me']);
export const newHandle = handle.refine((h) => !RESERVED_HANDLES.has(h.toLowerCase()), 'this handle is reserved');

/** Text limited in grapheme clusters after trimming, as the composer counts it. */
export const graphemeText = (max: number, min = 1) =>
  z
    .string()
    .max(max * 16) // cheap guard before segmenting a huge string
    .transform((s) => s.trim())
    .refine((s) => {
      const n = countGraphemes(s);
      return n >= min && n <= max;
    }, `must be ${min}–${max} characters (grapheme clusters) after trimming`)
    .describe(`${min}–${max} grapheme clusters after trimming`);

export const tweetText = graphemeText(MAX_TWEET_GRAPHEMES);

const httpUrl = z
  .string()
  .max(2048)
  .refine((v) => {
    try {
      return ['http:', 'https:'].includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, 'expected an http(s) URL');

export const nullableUrl = httpUrl.nullable();

export const birthDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD')
  .refine((v) => {
    const d = new Date(`${v}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(v) && d.getTime() < Date.now() && d.getUTCFullYear() >= 1900;
  }, 'expected a real past date')
  .nullable();

export const email = z.email().max(254);
export const password = z.string().min(8, 'at least 8 characters').max(128);

export const idParams = z.object({ id });
export const handleParams = z.object({ handle });
export const reactionParams = z.object({ id, kind: z.enum(REACTION_KINDS) });

export const limit = z.coerce.number().int().min(1).max(100).default(20).describe('page size, at most 100');
export const pageQuery = z.object({ limit, cursor: id.optional().describe('the `next` of the previous page') });

/** Tweet lists (a user's tweets, the home timeline): newest first, with cursor, max_id and since_id. */
export const tweetListQuery = z.object({
  limit,
  cursor: id.optional().describe('the `next` of the previous page (exclusive upper bound)'),
  max_id: id.optional().describe('only tweets with id ≤ max_id'),
  since_id: id.optional().describe('only tweets newer than since_id'),
});

export const toTimelineQuery = (q: z.infer<typeof tweetListQuery>) => ({ limit: q.limit, cursor: q.cursor, maxId: q.max_id, sinceId: q.since_id });
