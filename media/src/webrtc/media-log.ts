/** The slice of a pino logger the WebRTC ingest writes to (the gateway passes its own). */
export interface MediaLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
