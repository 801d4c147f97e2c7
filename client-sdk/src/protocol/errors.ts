/**
 * The one error catalog of Flock. HTTP responses and socket acks carry
 * `{error: {code, message, details?}}` with a code from this table; the HTTP
 * status is fixed per code so clients can branch on either.
 */
export const ERRORS = {
  FLOCK_ERR_VALIDATION: { status: 400, message: 'The request is not valid' },
  FLOCK_ERR_BAD_JSON: { status: 400, message: 'The request body is not valid JSON' },
  FLOCK_ERR_UNAUTHORIZED: { status: 401, message: 'Authentication is required' },
  FLOCK_ERR_TOKEN_EXPIRED: { status: 401, message: 'The access token has expired' },
  FLOCK_ERR_INVALID_CREDENTIALS: { status: 401, message: 'Wrong handle, email or password' },
  FLOCK_ERR_REFRESH_INVALID: { status: 401, message: 'The refresh token is not valid' },
  FLOCK_ERR_FORBIDDEN: { status: 403, message: 'You may not change this resource' },
  FLOCK_ERR_NOT_FOUND: { status: 404, message: 'Not found' },
  FLOCK_ERR_ROUTE_NOT_FOUND: { status: 404, message: 'No such route' },
  FLOCK_ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed on this route' },
  FLOCK_ERR_HANDLE_TAKEN: { status: 409, message: 'That handle is taken' },
  FLOCK_ERR_EMAIL_TAKEN: { status: 409, message: 'That email is already registered' },
  FLOCK_ERR_NAME_TAKEN: { status: 409, message: 'That name is taken' },
  FLOCK_ERR_PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  FLOCK_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send the body as application/json' },
  FLOCK_ERR_RATE_LIMITED: { status: 429, message: 'Too many requests; retry later' },
  FLOCK_ERR_INTERNAL: { status: 500, message: 'Internal error' },
  FLOCK_ERR_UNAVAILABLE: { status: 503, message: 'A dependency is unavailable; retry later' },
  // WebRTC ingest
  FLOCK_ERR_INGEST_BUSY: { status: 409, message: 'The stream already has a live WebRTC ingest' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERRORS, code);
}
