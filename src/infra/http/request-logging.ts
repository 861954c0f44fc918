import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

// What probes and scrapers call every few seconds: a line each would drown the log.
const QUIET_PATHS = ['/health/', '/metrics'];

/**
 * One line per request, when it is answered, with the request and its status (Fastify's default
 * logs two: on arrival and on answer). Health probes and metric scrapes go at debug.
 */
export class RequestLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) super.requestCompleted(error, request, reply);
    else if (QUIET_PATHS.some((path) => request.url.startsWith(path))) reply.log.debug(line, 'request completed');
    else reply.log.info(line, 'request completed');
  }
}

/** A `worker`'s port serves only probes and scrapes: none of its requests is worth a line. */
export const silentRequests = () => new LogController({ disableRequestLogging: true });
