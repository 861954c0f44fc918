import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { databaseUnavailableCause } from '../db/unavailable.js';
import { isRedisUnavailable } from '../redis.js';
import { AppError, errors, type FieldError } from './errors.js';
import { PROBLEM_CONTENT_TYPE, Problem, problems } from './schemas.js';

const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** The `type` of a problem: a stable URI reference built from the error code. */
function problemType(code: string): string {
  return `/problems/${code.toLowerCase().replace(/_/g, '-')}`;
}

function problemBody(error: AppError) {
  return {
    type: problemType(error.code),
    title: error.title,
    status: error.status,
    detail: error.message,
    code: error.code,
    ...(error.errors ? { errors: error.errors } : {}),
    ...error.extensions,
  };
}

function send(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.headers) reply.headers(error.headers);
  return reply.status(error.status).type(PROBLEM_CONTENT_TYPE).send(problemBody(error));
}

/**
 * What Fastify's router meets before any route or hook: a bad percent-encoding, a path parameter
 * longer than any id. Its own answer would be plain JSON echoing the whole URL.
 */
export function answerFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  return send(reply, error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? errors.uriTooLong() : errors.badUrl());
}

/**
 * What Node's HTTP parser meets before Fastify sees a request (a malformed Content-Length, headers
 * past the limit, a request that never finishes arriving): answered on the socket, as a problem.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const problem =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? errors.headersTooLarge()
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? errors.requestTimeout()
        : errors.unreadableRequest();
  const body = JSON.stringify(problemBody(problem));
  socket.end(
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
  /** The schema that failed (Ajv's `verbose`), whose description says what a pattern means. */
  parentSchema?: { description?: string };
}

/**
 * One error per field, named the way a client wrote it: `email`, `items.0.name`, `page`. A union
 * such as "a date or null" fails every branch; the branch that is not about null says most.
 */
function fieldErrors(validation: AjvError[], context: string | undefined): FieldError[] {
  const byField = new Map<string, AjvError[]>();
  for (const error of validation) {
    const path = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const missing = typeof error.params.missingProperty === 'string' ? error.params.missingProperty : undefined;
    const field = [path, missing].filter(Boolean).join('.') || (context ?? 'body');
    byField.set(field, [...(byField.get(field) ?? []), error]);
  }
  // A body that may also be null fails "must be null" and the union as a whole, beside the real
  // reason in one of its fields: only that field is worth reporting.
  const root = context ?? 'body';
  const unionOnly = byField.get(root)?.every((e) => e.keyword === 'anyOf' || e.params.type === 'null');
  if (unionOnly && byField.size > 1) byField.delete(root);
  return [...byField].map(([field, list]) => {
    const telling = list.find((e) => !['anyOf', 'oneOf'].includes(e.keyword) && e.params.type !== 'null');
    const error = telling ?? (list[0] as AjvError);
    return { field, message: error.params.missingProperty ? 'is required' : describe(error) };
  });
}

function describe(error: AjvError): string {
  if (error.keyword === 'format') return `must be a valid ${String(error.params.format).replace(/-/g, ' ')}`;
  // A regular expression means nothing to a client: the schema's description says what it asks.
  if (error.keyword === 'pattern') return `must be ${error.parentSchema?.description ?? 'in the expected form'}`;
  if (error.keyword === 'additionalProperties')
    return `has an unknown property ${String(error.params.additionalProperty)}`;
  return error.message ?? 'is invalid';
}

function toAppError(error: FastifyError): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error.validation) {
    const list = fieldErrors(error.validation as AjvError[], error.validationContext);
    return errors.validation(`The ${error.validationContext ?? 'request'} is invalid.`, list);
  }
  const status = error.statusCode ?? 500;
  // Fastify's own client errors (bad JSON, wrong content type, body too large) carry safe messages.
  if (status >= 400 && status < 500) {
    return errors.frameworkClientError(status, error.message);
  }
  return undefined;
}

/** The underlying error when a dependency the request needed is away; retrying later may work. */
function unavailableCause(error: unknown): Error | undefined {
  return databaseUnavailableCause(error) ?? (isRedisUnavailable(error) ? (error as Error) : undefined);
}

/** Any route of `app` may meet a dependency that is away: each one documents the 503 it then answers. */
export function documentUnavailable(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const schema = route.schema as { response?: Record<string, unknown> } | undefined;
    if (schema?.response && !schema.response[503]) schema.response = { ...schema.response, ...problems(503) };
  });
}

/** One error handler and one not-found handler for the whole app, both answering problem documents. */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.addSchema(Problem);
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const cause = unavailableCause(error);
    if (cause) {
      // The cause alone: a wrapping query error would carry the statement and its parameters.
      request.log.warn({ reason: cause.message, code: (cause as { code?: unknown }).code }, 'dependency unavailable');
      return send(reply, errors.unavailable('A service this request needs is not answering; try again shortly.'));
    }
    const known = toAppError(error);
    if (known) {
      // Unavailable is the service saying honestly that a dependency is away, as above: no stack.
      if (known.status === 503) request.log.warn({ code: known.code, reason: known.message }, 'unavailable');
      else if (known.status >= 500) request.log.error({ err: error }, known.message);
      return send(reply, known);
    }
    request.log.error({ err: error }, 'unexpected error');
    return send(reply, errors.internal());
  });

  app.setNotFoundHandler((request, reply) => {
    const url = request.url.split('?')[0] ?? '/';
    // A route that answers this method and found nothing (a missing file) is a 404, not a 405.
    const routed = app.findRoute({ method: request.method as HTTPMethods, url });
    const allowed = routed
      ? []
      : METHODS.filter((method) => method !== request.method && app.findRoute({ method, url }));
    return send(
      reply,
      allowed.length > 0 ? errors.methodNotAllowed(request.method, allowed) : errors.routeNotFound(request.method, url),
    );
  });
}
