/**
 * Messages between gateways and standalone media workers (MEDIA_SERVICE=remote), over Redis.
 *
 * - Reports (worker → gateways): `live` and `ended`. They go through a Redis list that the
 *   gateways pop from, so each report is handled by exactly one gateway, and a report made while
 *   no gateway is up waits for one (the stream's state must not get stuck at `live`).
 * - Commands (gateway → workers): `stop` and `remove`, published on a channel every worker
 *   hears; the worker that has the stream acts, the others ignore it. At most once: a command
 *   lost while a worker reconnects leaves a deleted stream's broadcaster on air until it stops.
 */
export type MediaReport = { type: 'live' | 'ended'; streamId: string };
export type MediaCommand = { type: 'stop' | 'remove'; streamId: string };

export const reportsKey = (prefix: string): string => `${prefix}media:reports`;
export const commandsChannel = (prefix: string): string => `${prefix}media:commands`;

const ID = /^\d{1,20}$/;

/** A `{type, streamId}` message with one of `types`; null for anything malformed (logged by the caller, never thrown). */
function parseMessage<T extends string>(raw: string, types: readonly T[]): { type: T; streamId: string } | null {
  try {
    const m = JSON.parse(raw) as { type?: unknown; streamId?: unknown };
    return types.includes(m.type as T) && typeof m.streamId === 'string' && ID.test(m.streamId) ? { type: m.type as T, streamId: m.streamId } : null;
  } catch {
    return null;
  }
}

export const parseReport = (raw: string): MediaReport | null => parseMessage(raw, ['live', 'ended'] as const);
export const parseCommand = (raw: string): MediaCommand | null => parseMessage(raw, ['stop', 'remove'] as const);
