import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { AppError, errors, type FieldError } from './errors.js';

const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** The `type` of a problem: a stable URI reference built from the error code. */
function problemType(code: string): string {
  return `/problems/${code.toLowerCase().replace(/_/g, '-')}`;
}

function send(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.headers) reply.headers(error.headers);
  return reply
    .status(error.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send({
      type: problemType(error.code),
      title: error.title,
      status: error.status,
      detail: error.message,
      code: error.code,
      ...(error.errors ? { errors: error.errors } : {}),
    });
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
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
  return [...byField].map(([field, list]) => {
    const telling = list.find((e) => !['anyOf', 'oneOf'].includes(e.keyword) && e.params.type !== 'null');
    const error = telling ?? (list[0] as AjvError);
    return { field, message: error.params.missingProperty ? 'is required' : describe(error) };
  });
}

function describe(error: AjvError): string {
  if (error.keyword === 'format') return `must be a valid ${String(error.params.format).replace(/-/g, ' ')}`;
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
    return new AppError(status, error.code ?? 'BAD_REQUEST', titleFor(status), error.message);
  }
  return undefined;
}

function titleFor(status: number): string {
  return (
    { 400: 'Bad request', 404: 'Not found', 413: 'Payload too large', 415: 'Unsupported media type' }[status] ??
    'Client error'
  );
}

/** One error handler and one not-found handler for the whole app, both answering problem documents. */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const known = toAppError(error);
    if (known) {
      if (known.status >= 500) request.log.error({ err: error }, known.message);
      return send(reply, known);
    }
    request.log.error({ err: error }, 'unexpected error');
    return send(reply, new AppError(500, 'INTERNAL', 'Internal server error', 'An unexpected error occurred.'));
  });

  app.setNotFoundHandler((request, reply) => {
    const url = request.url.split('?')[0] ?? '/';
    const allowed = METHODS.filter((method) => method !== request.method && app.findRoute({ method, url }));
    return send(
      reply,
      allowed.length > 0 ? errors.methodNotAllowed(request.method, allowed) : errors.routeNotFound(request.method, url),
    );
  });
}
