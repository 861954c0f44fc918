import type { FastifyRequest } from 'fastify';
import { errors } from './errors.js';

export type Role = 'user' | 'admin';

/** Who is calling: the signed-in user, the role the database gives them, and their session. */
export interface Principal {
  userId: string;
  role: Role;
  sessionId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on routes that declare `config.auth`. */
    principal: Principal | null;
  }
}

/** The signed-in caller of a route that declared `config.auth`. */
export function principal(request: FastifyRequest): Principal {
  if (!request.principal) throw errors.unauthenticated();
  return request.principal;
}
