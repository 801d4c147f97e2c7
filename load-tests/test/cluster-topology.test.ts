import { describe, expect, it } from 'vitest';
import { renderNginxConfig } from '../cluster/nginx-config.ts';
import { planServices } from '../cluster/topology.ts';

const base = { gatewayPorts: [8081, 8082], mediaPort: 8090, rtmpPort: 1935, mediaDataDir: '/tmp/x/media', publicUrl: 'https://127.0.0.1:8443', host: '127.0.0.1' };

describe('cluster topology', () => {
  it('runs one gateway per port with its own node id, and no media link without a media service', () => {
    const plan = planServices({ ...base, mediaPresent: false });
    expect(plan.services.map((s) => [s.name, s.role, s.port, s.env.NODE_ID])).toEqual([
      ['gateway-1', 'gateway', 8081, '1'],
      ['gateway-2', 'gateway', 8082, '2'],
    ]);
    expect(plan.gatewayExtraEnv).toEqual({});
  });

  it('adds the media worker as one more entry, and points the gateways at it', () => {
    const plan = planServices({ ...base, mediaPresent: true });
    expect(plan.services.at(-1)).toMatchObject({ name: 'media', role: 'media', entry: 'media/src/main.ts', readyPath: '/healthz', port: 8090, env: { NODE_ID: '3', RTMP_PORT: '1935' } });
    expect(plan.gatewayExtraEnv).toEqual({ MEDIA_SERVICE: 'remote', HLS_PUBLIC_URL: 'https://127.0.0.1:8443/hls', RTMP_PUBLIC_URL: 'rtmp://127.0.0.1:1935/live' });
  });
});

describe('cluster nginx.conf', () => {
  const conf = (media: { host: string; port: number } | null) =>
    renderNginxConfig({
      runDir: '/run/x',
      sharedDir: '/repo/deploy/nginx',
      httpsPort: 8443,
      listenHost: '127.0.0.1',
      certFile: '/run/x/tls.crt',
      keyFile: '/run/x/tls.key',
      gateways: [
        { host: '127.0.0.1', port: 8081 },
        { host: '127.0.0.1', port: 8082 },
      ],
      media,
    });

  it('lists every gateway in both gateway upstreams and includes the shared locations', () => {
    const text = conf({ host: '127.0.0.1', port: 8090 });
    for (const name of ['flock_gateways', 'flock_gateways_sticky']) {
      const block = new RegExp(`upstream ${name} \\{([^}]*)\\}`).exec(text)![1]!;
      expect(block.match(/server 127\.0\.0\.1:808[12]/g)).toHaveLength(2);
    }
    expect(text).toMatch(/upstream flock_media \{\s*server 127\.0\.0\.1:8090;/);
    expect(text).toContain('include /repo/deploy/nginx/flock-http.conf;');
    expect(text).toContain('include /repo/deploy/nginx/flock-server.conf;');
    expect(text).toContain('listen 127.0.0.1:8443 ssl;');
    expect(text).toContain('pid /run/x/nginx.pid;');
  });

  it('marks the media upstream down when no media service runs', () => {
    expect(conf(null)).toMatch(/upstream flock_media \{\s*server 127\.0\.0\.1:9 down;/);
  });
});
