import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createTransport } from '../../src/http/create-transport.ts';
import { loadUws } from '../../src/http/load-uws.ts';
import type { TransportOptions } from '../../src/http/types.ts';

const opts: TransportOptions = {
  handler: async () => ({ status: 200, body: { ok: true } }),
  maxBodyBytes: 1024,
  trustProxy: false,
  onError: () => {},
};
const broken = () => ({ ok: false as const, reason: 'native uWebSockets.js binary uws_linux_x64_999.node cannot load: ABI mismatch' });

describe('transport selection', () => {
  it('loads the native uWS binary on this machine (not the JS imitation)', () => {
    const loaded = loadUws();
    expect(loaded.ok).toBe(true);
    const { transport, fallback } = createTransport(loadConfig({}), opts);
    expect(transport.name).toBe('uws');
    expect(fallback).toBeNull();
    transport.close();
  });

  it('falls back to node:http with the reason when the binary cannot load', async () => {
    const { transport, fallback } = createTransport(loadConfig({}), opts, broken);
    expect(transport.name).toBe('node');
    expect(fallback).toMatch(/cannot load: ABI mismatch/);
    const port = await transport.listen('127.0.0.1', 0);
    const r = await fetch(`http://127.0.0.1:${port}/anything`);
    expect(await r.json()).toEqual({ ok: true });
    transport.close();
  });

  it('refuses to start when uWS is demanded but cannot load', () => {
    expect(() => createTransport(loadConfig({ HTTP_TRANSPORT: 'uws' }), opts, broken)).toThrow(/HTTP_TRANSPORT=uws but native uWebSockets.js binary/);
  });

  it('uses node:http without calling it a fallback when asked to', () => {
    const { transport, fallback } = createTransport(loadConfig({ HTTP_TRANSPORT: 'node' }), opts, broken);
    expect(transport.name).toBe('node');
    expect(fallback).toBeNull();
    transport.close();
  });
});
