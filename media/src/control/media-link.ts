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

/** Parses a message from Redis; null for anything malformed (logged by the caller, never thrown). */
export function parseReport(raw: string): MediaReport | null {
  try {
    const m = JSON.parse(raw) as Partial<MediaReport>;
    return (m.type === 'live' || m.type === 'ended') && typeof m.streamId === 'string' && ID.test(m.streamId) ? { type: m.type, streamId: m.streamId } : null;
  } catch {
    return null;
  }
}

export function parseCommand(raw: string): MediaCommand | null {
  try {
    const m = JSON.parse(raw) as Partial<MediaCommand>;
    return (m.type === 'stop' || m.type === 'remove') && typeof m.streamId === 'string' && ID.test(m.streamId) ? { type: m.type, streamId: m.streamId } : null;
  } catch {
    return null;
  }
}
