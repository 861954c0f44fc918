import type { FastifyRequest } from 'fastify';

/** Who asked, from where: recorded with every audit entry a request writes. */
export interface AuditOrigin {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

/** The origin of what background work does: no request, no address. */
export const NO_REQUEST: AuditOrigin = { ip: null, userAgent: null, requestId: null };

export function auditOrigin(request: FastifyRequest): AuditOrigin {
  const userAgent = request.headers['user-agent'];
  return { ip: request.ip ?? null, userAgent: userAgent ? userAgent.slice(0, 512) : null, requestId: request.id };
}
