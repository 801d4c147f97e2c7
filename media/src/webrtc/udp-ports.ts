import dgram from 'node:dgram';

function bind(ip: string, port: number): Promise<dgram.Socket | null> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(ip.includes(':') ? 'udp6' : 'udp4');
    sock.once('error', () => {
      sock.close();
      resolve(null);
    });
    sock.bind(port, ip, () => resolve(sock));
  });
}

/**
 * A free pair of UDP ports (even RTP port, RTCP = RTP + 1) for ffmpeg to listen on, found by
 * binding both and releasing them. ffmpeg binds them a moment later; another process could take
 * them in between, which ffmpeg reports as a bind error and the supervisor's restart retries.
 */
export async function freeRtpPortPair(ip: string, attempts = 50): Promise<{ rtpPort: number; rtcpPort: number }> {
  for (let i = 0; i < attempts; i++) {
    const first = await bind(ip, 0);
    if (!first) break;
    const port = first.address().port;
    const rtpPort = port % 2 === 0 ? port : port + 1;
    const rtp = rtpPort === port ? first : await bind(ip, rtpPort);
    const rtcp = rtp && rtpPort + 1 <= 65535 ? await bind(ip, rtpPort + 1) : null;
    for (const s of new Set([first, rtp, rtcp])) s?.close();
    if (rtp && rtcp) return { rtpPort, rtcpPort: rtpPort + 1 };
  }
  throw new Error(`no free UDP port pair on ${ip}`);
}
