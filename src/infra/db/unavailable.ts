// Socket errors: the server cannot be reached, or the connection to it broke.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);

// SQLSTATEs that say "not now" rather than "not this request": the server is shutting down,
// starting, out of connection slots, or cancelled the statement at the statement timeout.
// Class 08 (connection exceptions) is matched by its prefix.
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '57014']);

// What pg and pg-pool say when a connection cannot be made, is lost, or times out.
const MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect$/,
  /^Query read timeout$/,
  /^timeout expired$/,
  /not queryable/,
  /^Cannot use a pool after calling end on the pool$/,
];

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

function matches(error: ErrorLike): boolean {
  const code = typeof error.code === 'string' ? error.code : '';
  if (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
  const message = typeof error.message === 'string' ? error.message : '';
  return MESSAGES.some((pattern) => pattern.test(message));
}

/**
 * The error, or the error it wraps (drizzle puts pg's in `cause`; a failed connect to several
 * addresses is an AggregateError), that says PostgreSQL is away; undefined for any other error,
 * such as a constraint violation, which retrying would not cure.
 */
export function databaseUnavailableCause(error: unknown, depth = 0): Error | undefined {
  if (typeof error !== 'object' || error === null || depth > 5) return undefined;
  const candidate = error as ErrorLike;
  if (matches(candidate)) return error as Error;
  const nested = [candidate.cause, ...(Array.isArray(candidate.errors) ? candidate.errors : [])];
  for (const inner of nested) {
    const found = databaseUnavailableCause(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}
