/**
 * Flock ids are 64-bit time-ordered decimal strings (beyond 2^53, so never parsed as numbers).
 * Without leading zeros, a longer string is a larger id; equal lengths compare as text.
 */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export const maxId = (a: string | null, b: string | null): string | null => (a === null ? b : b === null ? a : compareIds(a, b) >= 0 ? a : b);
