/** The logging the media service needs; the gateway's pino logger satisfies it. */
export interface MediaLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  child(bindings: Record<string, unknown>): MediaLog;
}
