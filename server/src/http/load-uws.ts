import { createRequire } from 'node:module';
import path from 'node:path';

export type Uws = typeof import('uWebSockets.js');

export type UwsLoad = { ok: true; uws: Uws } | { ok: false; reason: string };

/**
 * Loads the native uWebSockets.js binary directly. The package's own entry
 * point swaps in a slow JavaScript imitation when the binary cannot load (or
 * when UWS_USE_FALLBACK is set) with only a console warning; Flock never uses
 * that imitation: the caller falls back to its own node:http transport and
 * says so loudly.
 */
export function loadUws(): UwsLoad {
  const require = createRequire(import.meta.url);
  let pkgDir: string;
  try {
    pkgDir = path.dirname(require.resolve('uWebSockets.js/package.json'));
  } catch (err) {
    return { ok: false, reason: `uWebSockets.js is not installed (${(err as Error).message})` };
  }
  const file = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  try {
    return { ok: true, uws: require(path.join(pkgDir, 'binaries', file)) as Uws };
  } catch (err) {
    return { ok: false, reason: `native uWebSockets.js binary ${file} cannot load: ${(err as Error).message.split('\n')[0]}` };
  }
}
