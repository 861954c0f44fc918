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
  ) {
    super(detail);
  }
}

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
  tokenNotActive: (id: string) =>
    new AppError(409, 'TOKEN_NOT_ACTIVE', 'Token not active', `Token ${id} has no active lease.`),
  payloadTooLarge: (limit: number) =>
    new AppError(413, 'PAYLOAD_TOO_LARGE', 'Payload too large', `The file is larger than ${limit} bytes.`),
  emailTaken: () => new AppError(409, 'EMAIL_TAKEN', 'E-mail taken', 'An account with this e-mail already exists.'),
  rateLimited: (retryAfterSeconds: number) =>
    new AppError(429, 'RATE_LIMITED', 'Too many requests', `Try again in ${retryAfterSeconds} seconds.`, undefined, {
      'retry-after': String(retryAfterSeconds),
    }),
  unavailable: (detail: string) => new AppError(503, 'UNAVAILABLE', 'Service unavailable', detail),
};
