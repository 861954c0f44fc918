import { randomUUID } from 'node:crypto';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Deps } from './deps.js';
import { isEmail } from './infra/http/formats.js';
import { registerProblemHandlers } from './infra/http/problem.js';
import { registerEventStreams } from './infra/http/sse.js';
import { auditRoutes } from './modules/audit/audit.routes.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import { registerAuthentication } from './modules/auth/authenticate.js';
import { healthRoutes } from './modules/health/health.routes.js';
import { importsRoutes } from './modules/imports/imports.routes.js';
import { tokensRoutes } from './modules/tokens/tokens.routes.js';
import { usersRoutes } from './modules/users/users.routes.js';
import { dashboard } from './web/dashboard.js';

export const API_PREFIX = '/api/v1';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Builds the HTTP app from its dependencies; it never listens (the entry points do). */
export async function buildApp(deps: Deps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // A caller's own request id is kept when it is sane, so logs can be followed across services.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    bodyLimit: 1024 * 1024,
    ajv: {
      // Every failing field is reported, not just the first.
      customOptions: { allErrors: true },
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
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (closing) reply.header('connection', 'close');
  });
  registerProblemHandlers(app);
  registerEventStreams(app);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tokenpool',
        version: '1.0.0',
        description: 'Time-boxed leases on a fixed pool of UUID tokens, accounts, bulk user import and an audit log.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWE' },
          streamTicket: { type: 'apiKey', in: 'query', name: 'ticket', description: 'From POST /auth/stream-ticket.' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerAuthentication(app, deps.database, deps.accessTokens);
  await app.register(multipart, { throwFileSizeLimit: true });
  await app.register(healthRoutes, { deps });
  await app.register(
    async (api) => {
      await api.register(authRoutes, { deps });
      await api.register(usersRoutes, { deps });
      await api.register(auditRoutes, { deps });
      await api.register(tokensRoutes, { deps });
      await api.register(importsRoutes, { deps });
    },
    { prefix: API_PREFIX },
  );
  await app.register(dashboard);
  return app;
}
