import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedWorkerPath, resolveWorkerBin, WORKER_BUILD_REVISION } from '../../src/webrtc/worker-bin.ts';

describe('resolveWorkerBin', () => {
  let cache: string;
  beforeAll(async () => {
    cache = await mkdtemp(path.join(os.tmpdir(), 'flock-worker-bin-'));
  });
  afterAll(() => rm(cache, { recursive: true, force: true }));

  it('finds the cached build of the installed version (the path the build script prints)', async () => {
    const bin = cachedWorkerPath(cache, '3.18.1');
    expect(bin).toBe(path.join(cache, 'flock', 'mediasoup-worker', `3.18.1-r${WORKER_BUILD_REVISION}`, 'mediasoup-worker'));
    await mkdir(path.dirname(bin), { recursive: true });
    await writeFile(bin, '#!/bin/sh\n', { mode: 0o755 });
    expect(resolveWorkerBin({ cacheHome: cache, version: '3.18.1' })).toEqual({ ok: true, path: bin });
  });

  it('looks where the build script of this revision builds (a worker from an older script is not used)', async () => {
    const script = readFileSync(new URL('../../scripts/build-mediasoup-worker.sh', import.meta.url), 'utf8');
    expect(script).toMatch(new RegExp(`^build_revision=${WORKER_BUILD_REVISION}$`, 'm'));
    expect(script).toContain('out_dir="$cache_root/$version-r$build_revision"');
    // A build of the previous layout (no revision) is not taken for this one.
    const old = path.join(cache, 'flock', 'mediasoup-worker', '3.17.0', 'mediasoup-worker');
    await mkdir(path.dirname(old), { recursive: true });
    await writeFile(old, '#!/bin/sh\n', { mode: 0o755 });
    expect(resolveWorkerBin({ cacheHome: cache, version: '3.17.0' }).ok).toBe(false);
  });

  it('says how to get a worker when the cache has none for this version', () => {
    const r = resolveWorkerBin({ cacheHome: cache, version: '3.99.0' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/no mediasoup 3\.99\.0 worker .*does not exist.*build-mediasoup-worker\.sh or set MEDIASOUP_WORKER_BIN/);
  });

  it('takes MEDIASOUP_WORKER_BIN over the cache, and reports it when it is wrong instead of falling back', async () => {
    const own = path.join(cache, 'own-worker');
    await writeFile(own, '#!/bin/sh\n', { mode: 0o755 });
    expect(resolveWorkerBin({ configured: own, cacheHome: cache, version: '3.18.1' })).toEqual({ ok: true, path: own });
    const notExec = path.join(cache, 'not-executable');
    await writeFile(notExec, 'x');
    await chmod(notExec, 0o644);
    expect(resolveWorkerBin({ configured: notExec, cacheHome: cache, version: '3.18.1' })).toEqual({
      ok: false,
      reason: `MEDIASOUP_WORKER_BIN: ${notExec} is not executable`,
    });
    expect(resolveWorkerBin({ configured: cache, cacheHome: cache, version: '3.18.1' })).toEqual({
      ok: false,
      reason: `MEDIASOUP_WORKER_BIN: ${cache} is not a file`,
    });
  });
});
