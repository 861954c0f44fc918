import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyContextConfig,
  FastifyPluginAsync,
  FastifyPluginOptions,
  FastifyRequest,
  RawServerDefault,
} from 'fastify';
import fp from 'fastify-plugin';
import Type, { type TObject } from 'typebox';
import { clientNetwork } from '../rate-limit/client-network.js';
import type { RateLimiter } from '../rate-limit/rate-limiter.js';
import { AppError, errors } from './errors.js';
import type { Principal, Role } from './principal.js';
import { problems } from './schemas.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: any signed-in user, or admins only. Absent means anyone. */
    auth?: Role;
    /** An event stream: also opened with a single-use `?ticket=` from `POST /auth/stream-ticket`. */
    streamTicket?: boolean;
  }
}

/** How a caller proves who they are; the accounts module provides it, this file only asks it. */
export interface Authenticator {
  /** The caller behind an `Authorization` header; throws 401 for anything but a live session. */
  bearer(header: string | undefined): Promise<Principal>;
  /** The caller behind a single-use stream ticket; throws 401 when it is spent or unknown. */
  ticket(value: string): Promise<Principal>;
}

const StreamTicketQuery = Type.Object({
  ticket: Type.Optional(Type.String({ maxLength: 128, description: 'A ticket from `POST /auth/stream-ticket`.' })),
});

const ROUTE_AUTH = 'route-auth';
const FAILED_STREAM_WINDOW_MS = 60_000;

export interface RouteAuthOptions {
  authenticator: Authenticator;
  /**
   * Failed attempts to open an event stream allowed per IP a minute: past them the answer is 429
   * before any ticket or token is looked up, so nobody can guess tickets or hammer the lookups.
   */
  failedStreamAttempts: { limiter: RateLimiter; perMinute: number };
}

/**
 * Routes declare `config: { auth: 'user' | 'admin' }`; this hook gives each of them the check,
 * the OpenAPI security requirement and the 401/403 responses, so no route can forget one. It sees
 * only routes added after it: a module's routes say so with `moduleRoutes`, and registering them
 * first fails at start.
 */
const routeAuthPlugin: FastifyPluginAsync<RouteAuthOptions> = async (app, { authenticator, failedStreamAttempts }) => {
  app.decorateRequest('principal', null);

  /** Runs a stream route's authentication, counting its failures against the caller's IP. */
  async function limitFailures(request: FastifyRequest, authenticate: () => Promise<Principal>): Promise<Principal> {
    const { limiter, perMinute } = failedStreamAttempts;
    const key = `stream-auth-failed:ip:${clientNetwork(request.ip)}`;
    // Counted before the check, as a failure, so attempts sent together cannot race past the limit;
    // handed back unless it failed.
    const slot = await limiter.reserve([{ key, limit: perMinute, windowMs: FAILED_STREAM_WINDOW_MS }]);
    if (!slot.allowed) throw errors.rateLimited(Math.max(1, Math.ceil(slot.retryAfterMs / 1000)));
    let failed = false;
    try {
      return await authenticate();
    } catch (error) {
      failed = error instanceof AppError && error.status === 401;
      throw error;
    } finally {
      if (!failed) await limiter.release([key]);
    }
  }

  app.addHook('onRoute', (route) => {
    const config = route.config as FastifyContextConfig | undefined;
    const role = config?.auth;
    if (!role) return;
    const acceptsTicket = config.streamTicket === true;
    route.schema ??= {};
    const schema = route.schema as Record<string, unknown>;
    schema.security = [{ bearerAuth: [] }, ...(acceptsTicket ? [{ streamTicket: [] }] : [])];
    const refusals = [401, ...(role === 'admin' ? [403] : []), ...(acceptsTicket ? [429] : [])];
    schema.response = { ...problems(...refusals), ...(schema.response as object) };
    if (acceptsTicket) {
      // The ticket joins the route's own query parameters (the route's HEAD twin comes through
      // here with the same schema: adding it again changes nothing).
      const own = schema.querystring as TObject | undefined;
      schema.querystring = own
        ? Type.Object({ ...own.properties, ...StreamTicketQuery.properties }, { additionalProperties: false })
        : StreamTicketQuery;
    }

    const check = async (request: FastifyRequest) => {
      // The hook runs before validation, so the ticket is checked for a plain string here.
      const given = (request.query as Record<string, unknown>).ticket;
      const useTicket = acceptsTicket && !request.headers.authorization && typeof given === 'string' && given !== '';
      const authenticate = () =>
        useTicket ? authenticator.ticket(given) : authenticator.bearer(request.headers.authorization);
      const caller = acceptsTicket ? await limitFailures(request, authenticate) : await authenticate();
      if (role === 'admin' && caller.role !== 'admin') throw errors.forbidden('Only admins may do this.');
      request.principal = caller;
    };
    route.onRequest = [...(route.onRequest ? [route.onRequest].flat() : []), check];
  });
};

export const routeAuth = fp(routeAuthPlugin, { name: ROUTE_AUTH });

/** A module's routes: a plugin of its own, which Fastify refuses to load before `routeAuth`. */
export function moduleRoutes<Options extends FastifyPluginOptions>(
  name: string,
  plugin: FastifyPluginAsyncTypebox<Options>,
): FastifyPluginAsyncTypebox<Options> {
  return fp<Options, RawServerDefault, TypeBoxTypeProvider, FastifyBaseLogger, FastifyPluginAsyncTypebox<Options>>(
    plugin,
    {
      name,
      dependencies: [ROUTE_AUTH],
      encapsulate: true,
    },
  );
}
