/**
 * Text rules shared by server and clients, so a composer's counter and the
 * server agree: length is counted in Unicode extended grapheme clusters
 * (Intl.Segmenter), not UTF-16 units, so a ZWJ family emoji, a letter with
 * combining marks and a CJK character each count as one.
 */
export const MAX_TWEET_GRAPHEMES = 280;

// Created on first use, and optional: React Native's Hermes has no Intl.Segmenter, and importing
// the protocol there must not throw. Without it, code points are counted (never fewer than the
// grapheme clusters, so a composer may be stricter than the server, never more lenient); a polyfill
// such as @formatjs/intl-segmenter makes the count exact.
let segmenter: Intl.Segmenter | null | undefined;
const graphemeSegmenter = (): Intl.Segmenter | null =>
  segmenter === undefined ? (segmenter = typeof Intl.Segmenter === 'function' ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null) : segmenter;

export function countGraphemes(text: string): number {
  // ASCII-only strings (the common case) have one grapheme per code unit,
  // except CR LF, which is one cluster.
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(text) && !text.includes('\r\n')) return text.length;
  const seg = graphemeSegmenter();
  let n = 0;
  if (!seg) {
    for (const _ of text) n++;
    return n;
  }
  for (const _ of seg.segment(text)) n++;
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
