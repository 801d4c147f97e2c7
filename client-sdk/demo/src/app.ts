import { createFlockClient, webStorageTokens, type FlockClient } from '../../src/index.ts';

/** The one client of the page: tokens in localStorage, so a reload stays logged in. */
export const client: FlockClient = createFlockClient({ baseUrl: location.origin, storage: webStorageTokens(localStorage) });

export function go(hash: string): void {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}
