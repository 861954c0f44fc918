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
import type { Registry } from 'prom-client';
import Type, { type TObject } from 'typebox';
import { counter, METRIC_PREFIX } from '../metrics/metrics.js';
import { clientNetwork } from '../rate-limit/client-network.js';
import type { RateLimiter } from '../rate-limit/rate-limiter.js';
import { AppError, errors } from './errors.js';
import type { Principal, Role } from './principal.js';
import { problems } from './schemas.js';
import { DEFAULT_POOL, narrowToKey, type Scope } from './scopes.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: any signed-in user, or admins only. Absent means anyone. */
    auth?: Role;
    /**
     * The scope an API key needs to call the route. Absent, the route refuses API keys: a route
     * cannot let keys in by forgetting to say which.
     */
    scope?: Scope;
    /** An event stream: also opened with a single-use `?ticket=` from `POST /auth/stream-ticket`. */
    streamTicket?: boolean;
  }
}

/** How a caller proves who they are; the accounts module provides it, this file only asks it. */
export interface Authenticator {
  /**
   * The caller behind an `Authorization` header, an access token or an API key; throws 401 for
   * anything but a live session or a live key.
   */
  bearer(header: string | undefined): Promise<Principal>;
  /** The caller behind a single-use stream ticket; throws 401 when it is spent or unknown. */
  ticket(value: string): Promise<Principal>;
  /** Whether the header offers an API key (rather than an access token), well formed or not. */
  offersApiKey(header: string | undefined): boolean;
}

type CredentialKind = 'access_token' | 'api_key' | 'stream_ticket';

const StreamTicketQuery = Type.Object({
  ticket: Type.Optional(Type.String({ maxLength: 128, description: 'A ticket from `POST /auth/stream-ticket`.' })),
});

const ROUTE_AUTH = 'route-auth';
const FAILED_ATTEMPTS_WINDOW_MS = 60_000;

export interface RouteAuthOptions {
  authenticator: Authenticator;
  /**
   * Failed attempts to open an event stream, and failed API keys, allowed per IP a minute (each
   * counted apart): past them the answer is 429 before any ticket, token or key is looked up, so
   * nobody can guess them or hammer the lookups.
   */
  failedAttempts: { limiter: RateLimiter; perMinute: number };
  /** Where `tokenpool_auth_total` is counted. */
  metrics: Registry;
}

/** What the OpenAPI document says of the route's API keys. */
function keyNote(scope: Scope | undefined): string {
  return scope ? `API keys need the scope \`${scope}\`.` : 'API keys are refused here.';
}

/**
 * Routes declare `config: { auth: 'user' | 'admin', scope? }`; this hook gives each of them the
 * check, the OpenAPI security requirement and the 401/403 responses, so no route can forget one. It
 * sees only routes added after it: a module's routes say so with `moduleRoutes`, and registering
 * them first fails at start.
 */
const routeAuthPlugin: FastifyPluginAsync<RouteAuthOptions> = async (
  app,
  { authenticator, failedAttempts, metrics },
) => {
  app.decorateRequest('principal', null);
  const outcomes = counter(metrics, {
    name: `${METRIC_PREFIX}auth_total`,
    help: "Authentications of requests, by credential and outcome (ok, or the refusal's code).",
    labelNames: ['kind', 'outcome'],
  });

  // Addresses whose failed API keys went past the limit, until when: refused before any lookup.
  const keyGuessers = new Map<string, number>();

  /**
   * Runs an API key's authentication. A key is a high-entropy secret, not a password: nothing is
   * guessed by trying, so a failure is counted once it happened (a burst may look up a few more
   * keys than the limit) and a success costs nothing, however many requests a service sends at
   * once. An address past the limit is refused before any lookup, in every process that saw one of
   * its failures (the count is shared).
   */
  async function limitKeyFailures(request: FastifyRequest, authenticate: () => Promise<Principal>) {
    const network = clientNetwork(request.ip);
    const now = Date.now();
    const until = keyGuessers.get(network) ?? 0;
    if (until > now) throw errors.rateLimited(until - now);
    try {
      return await authenticate();
    } catch (error) {
      if (!(error instanceof AppError && error.status === 401)) throw error;
      const { limiter, perMinute } = failedAttempts;
      const counted = await limiter.hit(`api-key-failed:ip:${network}`, perMinute, FAILED_ATTEMPTS_WINDOW_MS);
      if (counted.allowed) throw error;
      if (keyGuessers.size > 10_000)
        for (const [address, end] of keyGuessers) if (end <= now) keyGuessers.delete(address);
      keyGuessers.set(network, now + counted.retryAfterMs);
      throw errors.rateLimited(counted.retryAfterMs);
    }
  }

  /** Runs an authentication, counting its failures against the caller's IP in `counterName`. */
  async function limitFailures(
    request: FastifyRequest,
    counterName: string,
    authenticate: () => Promise<Principal>,
  ): Promise<Principal> {
    const { limiter, perMinute } = failedAttempts;
    const key = `${counterName}:ip:${clientNetwork(request.ip)}`;
    // Counted before the check, as a failure, so attempts sent together cannot race past the limit;
    // handed back unless it failed.
    const slot = await limiter.reserve([{ key, limit: perMinute, windowMs: FAILED_ATTEMPTS_WINDOW_MS }]);
    if (!slot.allowed) throw errors.rateLimited(slot.retryAfterMs);
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
    const { scope } = config;
    const acceptsTicket = config.streamTicket === true;
    route.schema ??= {};
    const schema = route.schema as Record<string, unknown>;
    schema.security = [{ bearerAuth: [] }, ...(acceptsTicket ? [{ streamTicket: [] }] : [])];
    schema.description = [schema.description, keyNote(scope)].filter(Boolean).join(' ');
    // 403 for every route: a key may lack the scope even where any user may call.
    const refusals = [401, 403, ...(acceptsTicket || scope ? [429] : [])];
    schema.response = { ...problems(...refusals), ...(schema.response as object) };
    if (acceptsTicket) {
      // The ticket joins the route's own query parameters (the route's HEAD twin comes through
      // here with the same schema: adding it again changes nothing).
      const own = schema.querystring as TObject | undefined;
      schema.querystring = own
        ? Type.Object({ ...own.properties, ...StreamTicketQuery.properties }, { additionalProperties: false })
        : StreamTicketQuery;
    }

    const authenticate = (request: FastifyRequest, kind: CredentialKind): Promise<Principal> => {
      const { authorization } = request.headers;
      if (kind === 'stream_ticket') {
        const ticket = (request.query as Record<string, string>).ticket as string;
        return limitFailures(request, 'stream-auth-failed', () => authenticator.ticket(ticket));
      }
      if (kind === 'api_key') return limitKeyFailures(request, () => authenticator.bearer(authorization));
      return acceptsTicket
        ? limitFailures(request, 'stream-auth-failed', () => authenticator.bearer(authorization))
        : authenticator.bearer(authorization);
    };

    const check = async (request: FastifyRequest) => {
      // The hook runs before validation, so the ticket is checked for a plain string here.
      const given = (request.query as Record<string, unknown>).ticket;
      const { authorization } = request.headers;
      const useTicket = acceptsTicket && !authorization && typeof given === 'string' && given !== '';
      const kind: CredentialKind = useTicket
        ? 'stream_ticket'
        : authenticator.offersApiKey(authorization)
          ? 'api_key'
          : 'access_token';
      try {
        let caller = await authenticate(request, kind);
        if (caller.apiKey) {
          const pool = (request.params as { pool?: string } | undefined)?.pool ?? DEFAULT_POOL;
          caller = narrowToKey({ ...caller, apiKey: caller.apiKey }, scope, pool);
        }
        if (role === 'admin' && caller.role !== 'admin') throw errors.forbidden('Only admins may do this.');
        request.principal = caller;
        outcomes.inc({ kind, outcome: 'ok' });
      } catch (error) {
        outcomes.inc({ kind, outcome: error instanceof AppError ? error.code.toLowerCase() : 'error' });
        throw error;
      }
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
