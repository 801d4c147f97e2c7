import type { ErrorCode } from '@flock/client/protocol';

/** A signaling failure meant for the client: the socket layer turns it into its ack error. */
export class WebRtcError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WebRtcError';
  }
}
