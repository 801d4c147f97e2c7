import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const OPENSSL_HINT = 'openssl must be on PATH (apt-get install openssl; bash .ci/run installs it)';

/**
 * A self-signed certificate for local TLS (localhost and 127.0.0.1), written as tls.crt and
 * tls.key into `dir`, the same names the compose balancer reads from /etc/nginx/certs.
 */
export async function createSelfSignedCert(dir: string, hostname = 'localhost'): Promise<{ certFile: string; keyFile: string }> {
  const certFile = path.join(dir, 'tls.crt');
  const keyFile = path.join(dir, 'tls.key');
  try {
    await run('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30',
      '-subj', `/CN=${hostname}`,
      '-addext', `subjectAltName=DNS:${hostname},DNS:localhost,IP:127.0.0.1`,
      '-keyout', keyFile, '-out', certFile,
    ]);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    throw new Error(e.code === 'ENOENT' ? OPENSSL_HINT : `openssl failed: ${e.stderr ?? e.message}`, { cause: err });
  }
  return { certFile, keyFile };
}
