import type { FastifyRequest } from 'fastify';
import { errors } from './errors.js';
import type { Scope } from './scopes.js';

export type Role = 'user' | 'admin';

/** What an API key narrows its owner to. */
export interface ApiKeyGrant {
  id: string;
  scopes: readonly Scope[];
  /** The pools it may use; null for every pool. */
  pools: readonly string[] | null;
}

/** Who is calling: the signed-in user, the role the database gives them, and their session. */
export interface Principal {
  userId: string;
  role: Role;
  /**
   * What ends the caller's access: the session signed in, or for an API key the key itself (an
   * event stream closes when it ends, see stream-sessions.ts).
   */
  sessionId: string;
  /** Set when the caller came with an API key rather than an access token. */
  apiKey?: ApiKeyGrant;
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
