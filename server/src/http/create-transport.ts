import type { Config } from '../config.ts';
import { loadUws, type UwsLoad } from './load-uws.ts';
import { NodeTransport } from './node-transport.ts';
import type { Transport, TransportOptions } from './types.ts';
import { UwsTransport } from './uws-transport.ts';

/**
 * Picks the HTTP transport: uWebSockets.js when its native binary loads
 * (HTTP_TRANSPORT=auto|uws), node:http otherwise. `fallback` is set when the
 * operator asked for uWS (or auto) and did not get it.
 */
export function createTransport(
  config: Config,
  opts: TransportOptions,
  load: () => UwsLoad = loadUws,
): { transport: Transport; fallback: string | null } {
  if (config.HTTP_TRANSPORT === 'node') return { transport: new NodeTransport(opts, 'HTTP_TRANSPORT=node'), fallback: null };
  if (config.UWS_USE_FALLBACK) {
    const reason = 'UWS_USE_FALLBACK is set';
    return { transport: new NodeTransport(opts, reason), fallback: reason };
  }
  const loaded = load();
  if (loaded.ok) return { transport: new UwsTransport(loaded.uws, opts, 'native uWebSockets.js binary loaded'), fallback: null };
  if (config.HTTP_TRANSPORT === 'uws') throw new Error(`HTTP_TRANSPORT=uws but ${loaded.reason}`);
  return { transport: new NodeTransport(opts, loaded.reason), fallback: loaded.reason };
}
