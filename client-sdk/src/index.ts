export { createFlockClient, type FlockClient, type FlockClientEvents, type FlockClientOptions, type SessionInfo } from './client.ts';
export { FlockApiError } from './api-error.ts';
export type { FlockApi } from './api.ts';
export type { ConnectionState, ConnectionStatus, SocketOptions } from './realtime.ts';
export type { BackoffOptions } from './backoff.ts';
export type { Fetch } from './http-client.ts';
export {
  asyncStorageTokens,
  memoryTokenStorage,
  webStorageTokens,
  type AsyncStorageLike,
  type StoredTokens,
  type TokenStorage,
  type WebStorageLike,
} from './token-storage.ts';
export { compareIds } from './ids.ts';
export * from './protocol/index.ts';
