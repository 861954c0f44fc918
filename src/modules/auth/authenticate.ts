import type { FastifyContextConfig, FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { Database } from '../../infra/db/database.js';
import { errors } from '../../infra/http/errors.js';
import { problems } from '../../infra/http/schemas.js';
import type { AccessClaims, AccessTokens, Role } from './access-tokens.js';
import { hashToken } from './secure-tokens.js';
import { findLiveSession } from './sessions.sql.js';
import { consumeStreamTicket } from './stream-tickets.sql.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: any signed-in user, or admins only. Absent means anyone. */
    auth?: Role;
    /** An event stream: also opened with a single-use `?ticket=` from `POST /auth/stream-ticket`. */
    streamTicket?: boolean;
  }
  interface FastifyRequest {
    /** Set on routes that declare `config.auth`. */
    principal: AccessClaims | null;
  }
}

const StreamTicketQuery = Type.Object({
  ticket: Type.Optional(Type.String({ maxLength: 128, description: 'A ticket from `POST /auth/stream-ticket`.' })),
});

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

  const bearer = async (header: string | undefined): Promise<AccessClaims> => {
    const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) throw errors.unauthenticated();
    const claims = await accessTokens.verify(token);
    if (!claims) throw errors.unauthenticated('The access token is invalid or expired.');
    // The session is looked up on every request, so a logout or reset ends its access tokens at
    // once in every process; the role comes from the database, never from a stale token.
    const session = await findLiveSession(database, claims.sessionId);
    if (!session || session.userId !== claims.userId) throw errors.unauthenticated('The session has ended.');
    return { ...claims, role: session.role };
  };

  const ticket = async (value: string): Promise<AccessClaims> => {
    const claims = await consumeStreamTicket(database, hashToken(value));
    if (!claims) throw errors.unauthenticated('The stream ticket is invalid, spent or expired.');
    return claims;
  };

  app.addHook('onRoute', (route) => {
    const config = route.config as FastifyContextConfig | undefined;
    const role = config?.auth;
    if (!role) return;
    const acceptsTicket = config.streamTicket === true;
    route.schema ??= {};
    const schema = route.schema as Record<string, unknown>;
    schema.security = [{ bearerAuth: [] }, ...(acceptsTicket ? [{ streamTicket: [] }] : [])];
    schema.response = { ...problems(401, ...(role === 'admin' ? [403] : [])), ...(schema.response as object) };
    if (acceptsTicket) {
      // The route's HEAD twin comes through here with the same schema.
      if (schema.querystring && schema.querystring !== StreamTicketQuery)
        throw new Error(`${route.url}: a stream route's querystring is the ticket's`);
      schema.querystring = StreamTicketQuery;
    }

    const check = async (request: FastifyRequest) => {
      // The hook runs before validation, so the ticket is checked for a plain string here.
      const given = (request.query as Record<string, unknown>).ticket;
      const useTicket = acceptsTicket && !request.headers.authorization && typeof given === 'string' && given !== '';
      const claims = useTicket ? await ticket(given) : await bearer(request.headers.authorization);
      if (role === 'admin' && claims.role !== 'admin') throw errors.forbidden('Only admins may do this.');
      request.principal = claims;
    };
    route.onRequest = [...(route.onRequest ? [route.onRequest].flat() : []), check];
  });
}
