import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The build script's `build_revision`: raised when the script builds a different binary from the
 * same mediasoup version (revision 2: the DTLS BIO callback fix), so older cached builds are not
 * used. A test checks that both say the same.
 */
export const WORKER_BUILD_REVISION = 2;

/**
 * Where `media/scripts/build-mediasoup-worker.sh` leaves the worker of one mediasoup version:
 * `<cacheHome>/flock/mediasoup-worker/<version>-r<revision>/mediasoup-worker` (cacheHome:
 * $XDG_CACHE_HOME, else ~/.cache, as the script).
 */
export function cachedWorkerPath(cacheHome: string, version: string): string {
  return path.join(cacheHome, 'flock', 'mediasoup-worker', `${version}-r${WORKER_BUILD_REVISION}`, 'mediasoup-worker');
}

export type WorkerBin = { ok: true; path: string } | { ok: false; reason: string };

function executable(file: string): string | null {
  try {
    if (!statSync(file).isFile()) return `${file} is not a file`;
    accessSync(file, constants.X_OK);
    return null;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${file} does not exist` : `${file} is not executable`;
  }
}

/**
 * The worker binary to run: MEDIASOUP_WORKER_BIN when set (it must exist: a wrong setting is an
 * operator's mistake worth reporting, not a reason to fall back silently), else the cached build
 * of the installed mediasoup version.
 */
export function resolveWorkerBin(opts: { configured?: string; cacheHome: string; version: string }): WorkerBin {
  if (opts.configured) {
    const problem = executable(opts.configured);
    return problem ? { ok: false, reason: `MEDIASOUP_WORKER_BIN: ${problem}` } : { ok: true, path: opts.configured };
  }
  const cached = cachedWorkerPath(opts.cacheHome, opts.version);
  const problem = executable(cached);
  return problem
    ? { ok: false, reason: `no mediasoup ${opts.version} worker (${problem}; build it with media/scripts/build-mediasoup-worker.sh or set MEDIASOUP_WORKER_BIN)` }
    : { ok: true, path: cached };
}
