/**
 * Text rules shared by server and clients, so a composer's counter and the
 * server agree: length is counted in Unicode extended grapheme clusters
 * (Intl.Segmenter), not UTF-16 units, so a ZWJ family emoji, a letter with
 * combining marks and a CJK character each count as one.
 */
export const MAX_TWEET_GRAPHEMES = 280;

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export function countGraphemes(text: string): number {
  // ASCII-only strings (the common case) have one grapheme per code unit,
  // except CR LF, which is one cluster.
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(text) && !text.includes('\r\n')) return text.length;
  let n = 0;
  for (const _ of segmenter.segment(text)) n++;
  return n;
}

/** Handles mentioned as `@handle` (1–15 of [A-Za-z0-9_]), lower-cased, unique, in order. */
export function extractMentions(text: string): string[] {
  const seen = new Set<string>();
  for (const m of text.matchAll(/(?<![A-Za-z0-9_@])@([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_])/g)) {
    seen.add(m[1]!.toLowerCase());
  }
  return [...seen];
}

export const HANDLE_PATTERN = /^[A-Za-z0-9_]{1,15}$/;
