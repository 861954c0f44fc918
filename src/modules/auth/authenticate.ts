import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Database } from '../../infra/db/database.js';
import { errors } from '../../infra/http/errors.js';
import { problems } from '../../infra/http/schemas.js';
import type { AccessClaims, AccessTokens, Role } from './access-tokens.js';
import { findLiveSession } from './sessions.sql.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: any signed-in user, or admins only. Absent means anyone. */
    auth?: Role;
  }
  interface FastifyRequest {
    /** Set on routes that declare `config.auth`. */
    principal: AccessClaims | null;
  }
}

/** The signed-in caller of a route that declared `config.auth`. */
export function principal(request: FastifyRequest): AccessClaims {
  if (!request.principal) throw errors.unauthenticated();
  return request.principal;
}

/**
 * Routes declare `config: { auth: 'user' | 'admin' }`; this hook gives each of them the check,
 * the OpenAPI security requirement and the 401/403 responses, so no route can forget one.
 */
export function registerAuthentication(app: FastifyInstance, database: Database, accessTokens: AccessTokens): void {
  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route) => {
    const role = (route.config as { auth?: Role } | undefined)?.auth;
    if (!role) return;
    route.schema ??= {};
    const schema = route.schema as Record<string, unknown>;
    schema.security = [{ bearerAuth: [] }];
    schema.response = { ...problems(401, ...(role === 'admin' ? [403] : [])), ...(schema.response as object) };

    const check = async (request: FastifyRequest) => {
      const header = request.headers.authorization;
      const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
      if (!token) throw errors.unauthenticated();
      const claims = await accessTokens.verify(token);
      if (!claims) throw errors.unauthenticated('The access token is invalid or expired.');
      // The session is looked up on every request, so a logout or reset ends its access tokens at
      // once in every process; the role comes from the database, never from a stale token.
      const session = await findLiveSession(database, claims.sessionId);
      if (!session || session.userId !== claims.userId) throw errors.unauthenticated('The session has ended.');
      if (role === 'admin' && session.role !== 'admin') throw errors.forbidden('Only admins may do this.');
      request.principal = { ...claims, role: session.role };
    };
    route.onRequest = [...(route.onRequest ? [route.onRequest].flat() : []), check];
  });
}
