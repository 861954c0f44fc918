import { randomUUID } from 'node:crypto';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Deps } from './deps.js';
import {
  answerClientError,
  answerFrameworkError,
  documentUnavailable,
  registerProblemHandlers,
} from './infra/http/problem.js';
import { RequestLogController } from './infra/http/request-logging.js';
import { routeAuth } from './infra/http/route-auth.js';
import { addSecurityHeaders } from './infra/http/security-headers.js';
import { registerEventStreams } from './infra/http/sse.js';
import { refuseUnstorableInput } from './infra/http/storable-input.js';
import { registerMetrics } from './infra/metrics/metrics-routes.js';
import { apiKeysRoutes } from './modules/api-keys/api-keys.routes.js';
import { auditRoutes } from './modules/audit/audit.routes.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import { createAuthenticator } from './modules/auth/authenticator.js';
import { createSessionCache } from './modules/auth/session-cache.js';
import { endStreamsWithTheirSessions } from './modules/auth/stream-sessions.js';
import { healthRoutes } from './modules/health/health.routes.js';
import { importsRoutes } from './modules/imports/imports.routes.js';
import { tokensRoutes } from './modules/tokens/tokens.routes.js';
import { isEmail } from './modules/users/email-address.js';
import { usersRoutes } from './modules/users/users.routes.js';
import { webhooksRoutes } from './modules/webhooks/webhooks.routes.js';
import { swaggerOptions } from './openapi.js';
import { dashboard } from './web/dashboard.js';

export const API_PREFIX = '/api/v1';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

// The API's answers carry personal data and credentials: nobody in between may keep a copy.
const PRIVATE_PREFIXES = [API_PREFIX, '/health'];

/** Builds the HTTP app from its dependencies; it never listens (the entry points do). */
export async function buildApp(deps: Deps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new RequestLogController(),
    // Our own id for every request, the one the audit log records: a caller cannot choose it.
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    bodyLimit: 1024 * 1024,
    // A request whose headers and body have not all arrived in time is answered 408 and its
    // connection closed (answerClientError): slow senders cannot hold connections for minutes.
    // Node's timer covers the request only, so an event stream, once its GET has arrived, runs on.
    requestTimeout: deps.config.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: deps.config.KEEP_ALIVE_TIMEOUT_MS,
    http: {
      headersTimeout: deps.config.REQUEST_TIMEOUT_MS,
      // Node looks for late requests on this interval (30 s by default): a tenth of the timeout
      // keeps a request from outliving its limit by more than that.
      connectionsCheckingInterval: Math.min(1000, Math.ceil(deps.config.REQUEST_TIMEOUT_MS / 10)),
    },
    // Every answer is a problem document, even for requests that never reach a route.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    ajv: {
      // Every failing field is reported, not just the first.
      customOptions: { allErrors: true, verbose: true },
      onCreate: (ajv) => {
        ajv.addFormat('email', { type: 'string', validate: isEmail });
      },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Once closing, every answer also closes its connection: keep-alive sockets busy when the close
  // began would otherwise idle on for the keep-alive timeout and hold the shutdown up.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // A caller's own x-request-id, when sane, is logged beside ours, so logs can be followed across
  // services; it is never taken for ours.
  app.addHook('onRequest', async (request) => {
    const given = request.headers['x-request-id'];
    if (typeof given === 'string' && REQUEST_ID.test(given)) {
      request.log = request.log.child({ clientRequestId: given });
    }
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (PRIVATE_PREFIXES.some((prefix) => request.url.startsWith(prefix))) reply.header('cache-control', 'no-store');
    if (closing) reply.header('connection', 'close');
  });
  // nosniff, no framing, no referrer and the rest of helmet's defaults on every answer; each page
  // (the dashboard, /docs) sets its own Content-Security-Policy.
  addSecurityHeaders(app, {
    contentSecurityPolicy: false,
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  registerProblemHandlers(app);
  refuseUnstorableInput(app);
  registerEventStreams(app, { slots: deps.rateLimiter.slots, perUser: deps.config.MAX_STREAMS_PER_USER });
  // Before any route: its timing hook covers every route registered after it.
  registerMetrics(app, { registry: deps.metrics, token: deps.config.METRICS_TOKEN });

  await app.register(swagger, swaggerOptions);
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // A policy listing the page's own inline script and style by hash, and no framing.
    staticCSP: true,
    transformStaticCSP: (header) => `${header}; frame-ancestors 'none'`,
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Sessions are kept per process only where whoever ends one can tell this process: through
  // Redis, or alone with the embedded PGlite. On PostgreSQL without Redis, each one is read.
  const sessions = createSessionCache(deps.events, deps.logger, {
    enabled: Boolean(deps.config.REDIS_URL) || deps.database.kind === 'pglite',
  });
  app.addHook('onClose', () => sessions.close());
  await app.register(routeAuth, {
    authenticator: createAuthenticator(deps.database, deps.accessCredentials, sessions),
    failedAttempts: { limiter: deps.rateLimiter, perMinute: deps.config.AUTH_RATE_LIMIT },
    metrics: deps.metrics,
  });
  endStreamsWithTheirSessions(app, deps.database.db);
  await app.register(multipart, { throwFileSizeLimit: true });
  await app.register(healthRoutes, { deps });
  await app.register(
    async (api) => {
      documentUnavailable(api);
      await api.register(authRoutes, { deps: { ...deps, sessions } });
      await api.register(usersRoutes, { deps });
      await api.register(auditRoutes, { deps });
      await api.register(tokensRoutes, { deps });
      await api.register(importsRoutes, { deps });
      await api.register(webhooksRoutes, { deps });
      await api.register(apiKeysRoutes, { deps });
    },
    { prefix: API_PREFIX },
  );
  await app.register(dashboard, {
    sourceMaps: deps.config.DASHBOARD_SOURCE_MAPS ?? deps.config.NODE_ENV !== 'production',
  });
  return app;
}
