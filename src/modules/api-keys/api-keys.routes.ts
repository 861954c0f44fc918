import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Database } from '../../infra/db/database.js';
import { pagedListRoute } from '../../infra/http/paged-list-route.js';
import { principal } from '../../infra/http/principal.js';
import { moduleRoutes } from '../../infra/http/route-auth.js';
import { IdParams, NoContent, problems } from '../../infra/http/schemas.js';
import { auditOrigin } from '../audit/audit-origin.js';
import {
  ApiKey,
  CreateApiKeyBody,
  CreatedApiKey,
  DEFAULT_OVERLAP_SECONDS,
  presentApiKey,
  RotateApiKeyBody,
} from './api-keys.schemas.js';
import { createApiKey, type MadeApiKey, revokeOwnApiKey, rotateApiKey } from './api-keys.service.js';
import { countApiKeys, listApiKeys } from './api-keys.sql.js';

const tags = ['api-keys'];

/** What the API keys' routes are built from. */
export interface ApiKeysDeps {
  readonly database: Database;
}

const created = ({ row, key }: MadeApiKey) => ({ ...presentApiKey(row), key });

// None of these routes declares a scope: keys are managed by people signed in, never by keys.
const routes: FastifyPluginAsyncTypebox<{ deps: ApiKeysDeps }> = async (app, { deps }) => {
  const { database } = deps;

  app.post(
    '/api-keys',
    {
      config: { auth: 'user' },
      schema: {
        operationId: 'createApiKey',
        tags,
        summary: 'Make an API key',
        description:
          'A key for programs: `Authorization: Bearer tp_sk_…` works wherever an access token does, as its owner, ' +
          'narrowed to its `scopes` (and `pools`, when given). The `key` is in this answer only. Admins may make keys ' +
          'for another account (`ownerId`, a service account); a key never holds a scope its owner’s role could not ' +
          'use (403). Expires after `expiresInDays` (default 90). Audited as `api_key.created`.',
        body: CreateApiKeyBody,
        response: { 201: CreatedApiKey, ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const made = await createApiKey(database, principal(request), request.body, auditOrigin(request));
      return reply.code(201).send(created(made));
    },
  );

  pagedListRoute(app, '/api-keys', {
    auth: 'user',
    operationId: 'listApiKeys',
    tags,
    summary: 'A page of API keys not revoked, newest first',
    description: 'The caller’s keys (an admin’s: everyone’s), without their secrets, with their last use.',
    item: ApiKey,
    source: (request) => {
      const caller = principal(request);
      const ownerId = caller.role === 'admin' ? undefined : caller.userId;
      return {
        rows: async (limit, offset) => (await listApiKeys(database.db, ownerId, limit, offset)).map(presentApiKey),
        count: () => countApiKeys(database.db, ownerId),
      };
    },
  });

  app.delete(
    '/api-keys/:id',
    {
      config: { auth: 'user' },
      schema: {
        operationId: 'revokeApiKey',
        tags,
        summary: 'Revoke an API key (owner or admin)',
        description:
          'The key stops working at once, in every process: requests made with it answer 401 `API_KEY_REVOKED`. ' +
          'Audited as `api_key.revoked`.',
        params: IdParams,
        response: { 204: NoContent, ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      await revokeOwnApiKey(database, principal(request), request.params.id, auditOrigin(request));
      return reply.code(204).send();
    },
  );

  app.post(
    '/api-keys/:id/rotate',
    {
      config: { auth: 'user' },
      schema: {
        operationId: 'rotateApiKey',
        tags,
        summary: 'Replace an API key, the old one working on for a while (owner or admin)',
        description:
          'A new key with the same name, scopes, pools and lifetime. The old key keeps working for `overlapSeconds` ' +
          '(default 86,400; 0 ends it now), then answers 401 `API_KEY_EXPIRED`. Audited as `api_key.rotated`.',
        params: IdParams,
        body: RotateApiKeyBody,
        response: { 201: CreatedApiKey, ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const overlap = request.body?.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS;
      const made = await rotateApiKey(database, principal(request), request.params.id, overlap, auditOrigin(request));
      return reply.code(201).send(created(made));
    },
  );
};

export const apiKeysRoutes = moduleRoutes('api-keys-routes', routes);
