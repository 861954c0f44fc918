import { pino } from 'pino';

export type Logger = pino.Logger;

/** Paths that may hold secrets; pino replaces them before a line is written. */
const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.refreshToken',
  '*.accessToken',
  '*.token',
];

/**
 * Query parameters that carry a credential, whatever route they are on: an event stream's ticket,
 * the reset and verify links' tokens (opened as dashboard pages), and any name of that kind a
 * future route may use. One rule, for every line that holds a URL.
 */
const SECRET_NAME = /^(?:[a-z_]*token|ticket|password|secret|code|key|signature)$/i;

/** A query parameter's name as the server reads it: `%74icket` is `ticket` to the route. */
function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

function redactUrl(url: string): string {
  const start = url.indexOf('?');
  if (start === -1) return url;
  const end = url.includes('#', start) ? url.indexOf('#', start) : url.length;
  const query = url
    .slice(start + 1, end)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals === -1 ? pair : pair.slice(0, equals);
      return equals !== -1 && SECRET_NAME.test(decodedName(name)) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, start + 1)}${query.join('&')}${url.slice(end)}`;
}

interface LoggedRequest {
  method: string;
  url: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/** Fastify's request serializer, but with secrets in the query string replaced. */
function serializeRequest(request: LoggedRequest) {
  return {
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

// A failed query's error (drizzle's) says "Failed query: <sql>\nparams: <values>", and PostgreSQL's
// `detail` quotes the row it refused: values hold password hashes, e-mails, imported rows.
const PARAMS = /\nparams: [\s\S]*$/;

/** An error's name and message, without the values of the query it failed on. */
export function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return `${error.name}: ${error.message.replace(PARAMS, '')}`;
}

interface LoggedError {
  type: string;
  message: string;
  code?: unknown;
  stack?: string;
  cause?: LoggedError | string;
}

/** pino's error serializer, less what errors carry of the data they failed on (see PARAMS). */
export function serializeError(error: unknown): LoggedError | string {
  if (!(error instanceof Error)) return String(error);
  const { code, cause } = error as Error & { code?: unknown; cause?: unknown };
  const frames = (error.stack ?? '').split('\n').filter((line) => line.startsWith('    at '));
  return {
    type: error.name,
    message: error.message.replace(PARAMS, ''),
    ...(code === undefined ? {} : { code }),
    stack: [errorMessage(error), ...frames].join('\n'),
    ...(cause === undefined ? {} : { cause: serializeError(cause) }),
  };
}

/**
 * Lines for a person at a terminal. pino-pretty runs as a transport, in a worker thread, and gets
 * each line after redaction and the serializers, as any other destination does.
 */
function prettyOutput(): pino.DestinationStream {
  return pino.transport({
    target: import.meta.resolve('pino-pretty'),
    // The worker thread's stdout is not the terminal, so colours are asked for, not detected.
    options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
  });
}

/** JSON lines to stdout, or to `destination`; `'pretty'` for human-readable lines instead. */
export function createLogger(level: string, destination?: pino.DestinationStream | 'pretty'): Logger {
  return pino(
    {
      level,
      redact: { paths: redactPaths, censor: '[redacted]' },
      serializers: { req: serializeRequest, err: serializeError },
    },
    destination === 'pretty' ? prettyOutput() : destination,
  );
}
