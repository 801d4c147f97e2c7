// load-tests/lib/socketio-wire.ts guards `typeof Blob !== 'undefined'` before using a global
// Blob, which k6's runtime may not define (its Blob is k6/websockets' export): declare it as such.
declare const Blob: { new (...parts: never[]): object; prototype: object };

// k6 provides console (log, info, warn, error, debug); @types/k6 does not declare it.
declare const console: {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
  debug(...data: unknown[]): void;
};
