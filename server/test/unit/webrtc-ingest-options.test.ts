import os from 'node:os';
import path from 'node:path';
import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { firstExternalIpv4, webRtcIngestSettings } from '../../src/realtime/webrtc-ingest-options.ts';

const nic = (address: string, family: 'IPv4' | 'IPv6', internal: boolean) => ({ address, family, internal }) as NetworkInterfaceInfo;
const interfaces = { lo: [nic('127.0.0.1', 'IPv4', true)], eth0: [nic('fe80::1', 'IPv6', false), nic('192.0.2.7', 'IPv4', false)] };

describe('WebRTC ingest settings', () => {
  it('defaults: the cached worker under ~/.cache, all addresses, announced as the first external IPv4', () => {
    const s = webRtcIngestSettings(loadConfig({}), interfaces);
    expect(s).toEqual({
      cacheHome: path.join(os.homedir(), '.cache'),
      listenIp: '0.0.0.0',
      announcedAddress: '192.0.2.7',
      rtcMinPort: 40000,
      rtcMaxPort: 49999,
      sdpDir: os.tmpdir(),
    });
  });

  it('takes MEDIASOUP_WORKER_BIN, XDG_CACHE_HOME, a specific listen address and an announced one', () => {
    const config = loadConfig({
      MEDIASOUP_WORKER_BIN: '/opt/mediasoup-worker',
      XDG_CACHE_HOME: '/var/cache/flock',
      WEBRTC_LISTEN_IP: '10.0.0.5',
      WEBRTC_MIN_PORT: '50000',
      WEBRTC_MAX_PORT: '50100',
    });
    expect(webRtcIngestSettings(config, interfaces)).toMatchObject({
      workerBin: '/opt/mediasoup-worker',
      cacheHome: '/var/cache/flock',
      listenIp: '10.0.0.5',
      rtcMinPort: 50000,
      rtcMaxPort: 50100,
    });
    expect(webRtcIngestSettings(config, interfaces).announcedAddress).toBeUndefined();
    expect(webRtcIngestSettings(loadConfig({ WEBRTC_ANNOUNCED_ADDRESS: 'media.example.com' }), interfaces).announcedAddress).toBe('media.example.com');
  });

  it('falls back to loopback when the host has no external IPv4', () => {
    expect(firstExternalIpv4({ lo: [nic('127.0.0.1', 'IPv4', true)] })).toBeUndefined();
    expect(webRtcIngestSettings(loadConfig({}), { lo: [nic('127.0.0.1', 'IPv4', true)] }).announcedAddress).toBe('127.0.0.1');
  });

  it('refuses a listen address that is not an IP and a port range upside down, listing both', () => {
    try {
      loadConfig({ WEBRTC_LISTEN_IP: 'eth0', WEBRTC_MIN_PORT: '50000', WEBRTC_MAX_PORT: '40000' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toMatch(/WEBRTC_LISTEN_IP: expected an IP address/);
      expect(problems).toMatch(/WEBRTC_MIN_PORT: must not be above WEBRTC_MAX_PORT/);
    }
  });
});
