import { isErrorCode, type ErrorCode } from './protocol/index.ts';

/** An error answer of the gateway (`{error: {code, message, details?}}`), or one the SDK gives itself. */
export class FlockApiError extends Error {
  override readonly name = 'FlockApiError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    /** Seconds, from `Retry-After` on a 429. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }

  /** Builds the error from a response whose body may not even be JSON (a proxy's 502 page). */
  static fromBody(status: number, body: unknown, retryAfter?: number): FlockApiError {
    const e = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
    if (e && isErrorCode(e.code)) return new FlockApiError(status, e.code, typeof e.message === 'string' ? e.message : e.code, e.details, retryAfter);
    const code: ErrorCode = status >= 502 && status <= 504 ? 'FLOCK_ERR_UNAVAILABLE' : status === 404 ? 'FLOCK_ERR_ROUTE_NOT_FOUND' : 'FLOCK_ERR_INTERNAL';
    return new FlockApiError(status, code, `HTTP ${status} without a Flock error body`, undefined, retryAfter);
  }
}
