export interface FieldError {
  field: string;
  message: string;
}

/**
 * An error a client can act on. `code` is stable and documented; the error handler turns it into
 * an RFC 9457 problem document whose `type` ends with the code.
 */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
    /** Further members of the problem document (RFC 9457 extension members). */
    readonly extensions?: Record<string, unknown>,
  ) {
    super(detail);
  }
}

// A dependency that is away is usually back, or given up for this attempt, within a few seconds.
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** The catalogue: every error the API answers on purpose is made here. */
export const errors = {
  validation: (detail: string, fieldErrors: FieldError[]) =>
    new AppError(400, 'VALIDATION_FAILED', 'Invalid request', detail, fieldErrors),
  badRequest: (detail: string) => new AppError(400, 'BAD_REQUEST', 'Bad request', detail),
  unauthenticated: (detail = 'A valid access token is required.') =>
    new AppError(401, 'UNAUTHENTICATED', 'Unauthenticated', detail, undefined, { 'www-authenticate': 'Bearer' }),
  invalidCredentials: () =>
    new AppError(401, 'INVALID_CREDENTIALS', 'Invalid credentials', 'The e-mail or password is wrong.'),
  invalidRefreshToken: () =>
    new AppError(
      401,
      'INVALID_REFRESH_TOKEN',
      'Invalid refresh token',
      'The refresh token is unknown, expired or revoked.',
    ),
  refreshTokenReused: () =>
    new AppError(
      401,
      'REFRESH_TOKEN_REUSED',
      'Refresh token reused',
      'This refresh token was already used; the session has been revoked.',
    ),
  invalidOneTimeToken: () =>
    new AppError(400, 'INVALID_TOKEN', 'Invalid token', 'The token is unknown, already used or expired.'),
  forbidden: (detail = 'You are not allowed to do this.') => new AppError(403, 'FORBIDDEN', 'Forbidden', detail),
  notFound: (what: string) => new AppError(404, 'NOT_FOUND', 'Not found', `${what} was not found.`),
  routeNotFound: (method: string, url: string) =>
    new AppError(404, 'ROUTE_NOT_FOUND', 'Not found', `No route ${method} ${url}.`),
  methodNotAllowed: (method: string, allowed: string[]) =>
    new AppError(405, 'METHOD_NOT_ALLOWED', 'Method not allowed', `${method} is not allowed here.`, undefined, {
      allow: allowed.join(', '),
    }),
  badUrl: () => new AppError(400, 'BAD_URL', 'Bad request', 'The URL is not valid (a bad percent-encoding?).'),
  unreadableRequest: () => new AppError(400, 'BAD_REQUEST', 'Bad request', 'The request could not be read as HTTP.'),
  requestTimeout: () => new AppError(408, 'REQUEST_TIMEOUT', 'Request timeout', 'The request took too long to arrive.'),
  uriTooLong: () => new AppError(414, 'URI_TOO_LONG', 'URI too long', 'A part of the URL is longer than any id.'),
  headersTooLarge: () =>
    new AppError(431, 'HEADERS_TOO_LARGE', 'Request header fields too large', 'The request headers are too large.'),
  tokenNotActive: (id: string) =>
    new AppError(409, 'TOKEN_NOT_ACTIVE', 'Token not active', `Token ${id} has no active lease.`),
  notMultipart: () =>
    new AppError(415, 'NOT_MULTIPART', 'Unsupported media type', 'Send multipart/form-data with a field "file".'),
  malformedMultipart: () =>
    new AppError(
      400,
      'MALFORMED_MULTIPART',
      'Bad request',
      'The multipart body could not be read (no boundary, or cut short).',
    ),
  notACsv: () => new AppError(415, 'NOT_A_CSV', 'Unsupported media type', 'The file is not text: upload a CSV file.'),
  payloadTooLarge: (limit: number) =>
    new AppError(413, 'PAYLOAD_TOO_LARGE', 'Payload too large', `The file is larger than ${limit} bytes.`),
  webhookLimitReached: (limit: number) =>
    new AppError(
      409,
      'WEBHOOK_LIMIT_REACHED',
      'Too many webhooks',
      `At most ${limit} endpoints may be registered; delete one first.`,
    ),
  emailTaken: () => new AppError(409, 'EMAIL_TAKEN', 'E-mail taken', 'An account with this e-mail already exists.'),
  rateLimited: (retryAfterSeconds: number) =>
    new AppError(429, 'RATE_LIMITED', 'Too many requests', `Try again in ${retryAfterSeconds} seconds.`, undefined, {
      'retry-after': String(retryAfterSeconds),
    }),
  unavailable: (detail: string, extensions?: Record<string, unknown>) =>
    new AppError(
      503,
      'UNAVAILABLE',
      'Service unavailable',
      detail,
      undefined,
      { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
      extensions,
    ),
};
