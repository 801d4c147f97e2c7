import { ERRORS, type ErrorCode, type ErrorBody } from '@flock/client/protocol';

export { ERRORS, type ErrorCode };

/** An error meant for the client: a catalog code, optional details and headers. */
export class FlockError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
    options?: ErrorOptions,
  ) {
    super(message ?? ERRORS[code].message, options);
    this.name = 'FlockError';
    this.status = ERRORS[code].status;
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}

export const notFound = (what = 'Not found'): FlockError => new FlockError('FLOCK_ERR_NOT_FOUND', what);
export const forbidden = (what?: string): FlockError => new FlockError('FLOCK_ERR_FORBIDDEN', what);
/** `options.cause`: the underlying error, for the logs (see causeOf); never in the response body. */
export const unavailable = (what?: string, options?: ErrorOptions): FlockError => new FlockError('FLOCK_ERR_UNAVAILABLE', what, undefined, undefined, options);

/**
 * The driver-level reason behind an error (its `cause`: code and message), for logs only. A
 * connection refused on every address is an AggregateError with a code and no message.
 */
export function causeOf(err: unknown): string | undefined {
  const cause = (err as { cause?: unknown } | null)?.cause;
  if (!(cause instanceof Error)) return undefined;
  const code = (cause as { code?: unknown }).code;
  return [typeof code === 'string' ? code : '', cause.message].filter(Boolean).join(': ') || cause.name;
}
