import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../../config.js';
import type { Database } from '../../infra/db/database.js';
import { errors } from '../../infra/http/errors.js';
import { pagedListRoute } from '../../infra/http/paged-list-route.js';
import { principal } from '../../infra/http/principal.js';
import { moduleRoutes } from '../../infra/http/route-auth.js';
import { IdParams, NoContent, problems } from '../../infra/http/schemas.js';
import { insertAuditEntry } from '../audit/audit.sql.js';
import { auditOrigin } from '../audit/audit-origin.js';
import { newWebhookSecret } from './webhook-signature.js';
import { checkWebhookUrl } from './webhook-url.js';
import {
  CreatedWebhook,
  CreateWebhookBody,
  presentDelivery,
  presentEndpoint,
  WEBHOOK_EVENTS,
  WebhookDelivery,
  WebhookEndpoint,
} from './webhooks.schemas.js';
import {
  countDeliveries,
  countEndpoints,
  deleteEndpoint,
  findEndpoint,
  insertEndpoint,
  listDeliveries,
  listEndpoints,
  lockEndpointRegistry,
} from './webhooks.sql.js';

const tags = ['webhooks'];

// Every pool event writes one delivery per endpoint in the transaction of the lease: the bound
// keeps a lease's cost bounded too.
const MAX_ENDPOINTS = 20;

/** What the webhooks' routes are built from. */
export interface WebhooksDeps {
  readonly database: Database;
  readonly config: Pick<Config, 'WEBHOOK_ALLOW_PRIVATE'>;
}

const routes: FastifyPluginAsyncTypebox<{ deps: WebhooksDeps }> = async (app, { deps }) => {
  const { config } = deps;
  const { db } = deps.database;

  app.post(
    '/webhooks',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'createWebhook',
        tags,
        summary: 'Register an endpoint that hears pool events',
        description:
          'Every chosen pool event is POSTed to `url` as JSON `{ type, timestamp, data }`, signed the Standard ' +
          'Webhooks way with the `secret` answered here (and never again), retried for WEBHOOK_RETRY_SECONDS. ' +
          'At most 20 endpoints: `409 WEBHOOK_LIMIT_REACHED` beyond.',
        body: CreateWebhookBody,
        response: { 201: CreatedWebhook, ...problems(400, 409) },
      },
    },
    async (request, reply) => {
      const caller = principal(request);
      const url = checkWebhookUrl(request.body.url, config.WEBHOOK_ALLOW_PRIVATE);
      const secret = newWebhookSecret();
      const endpoint = await db.transaction(async (tx) => {
        await lockEndpointRegistry(tx);
        if ((await countEndpoints(tx)) >= MAX_ENDPOINTS) throw errors.webhookLimitReached(MAX_ENDPOINTS);
        const row = await insertEndpoint(tx, {
          url,
          events: request.body.events ?? [...WEBHOOK_EVENTS],
          description: request.body.description?.trim() ?? null,
          secret,
          createdBy: caller.userId,
        });
        // The host and events only: never the secret, nor the URL's path and query, which some
        // receivers make a credential of (https://hooks.example.com/services/<key>).
        await insertAuditEntry(tx, {
          action: 'webhook.created',
          userId: caller.userId,
          target: { type: 'webhook', id: row.id },
          metadata: { host: new URL(row.url).host, events: row.events },
          context: auditOrigin(request),
        });
        return row;
      });
      return reply.code(201).send({ ...presentEndpoint(endpoint), secret });
    },
  );

  pagedListRoute(app, '/webhooks', {
    auth: 'admin',
    operationId: 'listWebhooks',
    tags,
    summary: 'A page of registered endpoints, newest first',
    description: 'Without their secrets.',
    item: WebhookEndpoint,
    source: () => ({
      rows: async (limit, offset) => (await listEndpoints(db, limit, offset)).map(presentEndpoint),
      count: () => countEndpoints(db),
    }),
  });

  app.delete(
    '/webhooks/:id',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'deleteWebhook',
        tags,
        summary: 'Stop delivering to an endpoint',
        description: 'Deliveries still pending are not sent; the endpoint and its delivery log are no longer listed.',
        params: IdParams,
        response: { 204: NoContent, ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const caller = principal(request);
      await db.transaction(async (tx) => {
        if (!(await deleteEndpoint(tx, request.params.id))) throw errors.notFound('The webhook');
        await insertAuditEntry(tx, {
          action: 'webhook.deleted',
          userId: caller.userId,
          target: { type: 'webhook', id: request.params.id },
          context: auditOrigin(request),
        });
      });
      return reply.code(204).send();
    },
  );

  pagedListRoute(app, '/webhooks/:id/deliveries', {
    auth: 'admin',
    operationId: 'listWebhookDeliveries',
    tags,
    summary: "A page of an endpoint's deliveries, newest first",
    description: 'Each event sent (or being sent) to the endpoint, with its attempts and the latest outcome.',
    params: IdParams,
    item: WebhookDelivery,
    problems: [400, 404],
    source: async (request) => {
      const { id } = request.params;
      if (!(await findEndpoint(db, id))) throw errors.notFound('The webhook');
      return {
        rows: async (limit, offset) => (await listDeliveries(db, id, limit, offset)).map(presentDelivery),
        count: () => countDeliveries(db, id),
      };
    },
  });
};

export const webhooksRoutes = moduleRoutes('webhooks-routes', routes);
