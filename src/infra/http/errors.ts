/**
 * Every code a problem document can carry: closed, so a client can switch on it. The OpenAPI
 * document lists them as the `code` enum; nothing outside `errors` below makes an `AppError`.
 */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'BAD_REQUEST',
  'BAD_URL',
  'MALFORMED_MULTIPART',
  'INVALID_EMAIL_LINK',
  'UNAUTHENTICATED',
  'INVALID_CREDENTIALS',
  'INVALID_REFRESH_TOKEN',
  'REFRESH_TOKEN_REUSED',
  'API_KEY_EXPIRED',
  'API_KEY_REVOKED',
  'FORBIDDEN',
  'SCOPE_MISSING',
  'REGISTRATION_CLOSED',
  'NOT_FOUND',
  'ROUTE_NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'REQUEST_TIMEOUT',
  'EMAIL_TAKEN',
  'TOKEN_NOT_ACTIVE',
  'POOL_FULL',
  'WEBHOOK_LIMIT_REACHED',
  'PAYLOAD_TOO_LARGE',
  'URI_TOO_LONG',
  'NOT_MULTIPART',
  'NOT_A_CSV',
  'UNSUPPORTED_MEDIA_TYPE',
  'RATE_LIMITED',
  'TOO_MANY_STREAMS',
  'HEADERS_TOO_LARGE',
  'INTERNAL',
  'UNAVAILABLE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

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
    readonly code: ErrorCode,
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
  invalidEmailLink: () =>
    new AppError(400, 'INVALID_EMAIL_LINK', 'Invalid link', 'The link is unknown, already used or expired.'),
  apiKeyExpired: () =>
    new AppError(401, 'API_KEY_EXPIRED', 'API key expired', 'The API key has expired: use a new one.', undefined, {
      'www-authenticate': 'Bearer',
    }),
  apiKeyRevoked: () =>
    new AppError(401, 'API_KEY_REVOKED', 'API key revoked', 'The API key has been revoked.', undefined, {
      'www-authenticate': 'Bearer',
    }),
  forbidden: (detail = 'You are not allowed to do this.') => new AppError(403, 'FORBIDDEN', 'Forbidden', detail),
  scopeMissing: (scope: string) =>
    new AppError(
      403,
      'SCOPE_MISSING',
      'Scope missing',
      `The API key lacks the scope "${scope}".`,
      undefined,
      undefined,
      { scope },
    ),
  apiKeyRefused: () =>
    new AppError(403, 'FORBIDDEN', 'Forbidden', 'API keys cannot be used here: sign in as a person.'),
  registrationClosed: () =>
    new AppError(
      403,
      'REGISTRATION_CLOSED',
      'Registration closed',
      'Accounts are made by invitation only; ask an administrator.',
    ),
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
  poolFull: (retryAfterSeconds: number) =>
    new AppError(
      409,
      'POOL_FULL',
      'Pool full',
      `Every token is held; the first lease ends in ${retryAfterSeconds} seconds.`,
      undefined,
      { 'retry-after': String(retryAfterSeconds) },
    ),
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
  /**
   * What Fastify itself refuses before a route runs (JSON that does not parse, a content type no
   * parser takes, a body over the limit): its message is safe to show, its code is its own.
   */
  frameworkClientError: (status: number, detail: string) => {
    if (status === 413) return new AppError(413, 'PAYLOAD_TOO_LARGE', 'Payload too large', detail);
    if (status === 415) return new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', detail);
    return new AppError(status, 'BAD_REQUEST', status === 400 ? 'Bad request' : 'Client error', detail);
  },
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
  /** `retryAfterMs` until the refusing window ends, said in whole seconds (at least one). */
  rateLimited: (retryAfterMs: number) => {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    return new AppError(429, 'RATE_LIMITED', 'Too many requests', `Try again in ${seconds} seconds.`, undefined, {
      'retry-after': String(seconds),
    });
  },
  tooManyStreams: (limit: number) =>
    new AppError(
      429,
      'TOO_MANY_STREAMS',
      'Too many event streams',
      `At most ${limit} event streams may be open at once per user; close one first.`,
    ),
  internal: () => new AppError(500, 'INTERNAL', 'Internal server error', 'An unexpected error occurred.'),
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
