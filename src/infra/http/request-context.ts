import type { FastifyRequest } from 'fastify';

/** Who asked, from where: recorded with every audit entry a request writes. */
export interface RequestContext {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export const NO_REQUEST: RequestContext = { ip: null, userAgent: null, requestId: null };

export function requestContext(request: FastifyRequest): RequestContext {
  const userAgent = request.headers['user-agent'];
  return { ip: request.ip ?? null, userAgent: userAgent ? userAgent.slice(0, 512) : null, requestId: request.id };
}
