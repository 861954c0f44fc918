import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { clientGone } from '../../infra/http/client-gone.js';
import { errors } from '../../infra/http/errors.js';
import { pagedListRoute } from '../../infra/http/paged-list-route.js';
import { principal } from '../../infra/http/principal.js';
import { moduleRoutes } from '../../infra/http/route-auth.js';
import { IdParams, problems } from '../../infra/http/schemas.js';
import { eventStreamResponse, streamChannel } from '../../infra/http/sse.js';
import { auditOrigin } from '../audit/audit-origin.js';
import { countTokenHistory, tokenHistory } from './sql/token-history.js';
import { countTokens, findToken, listTokens } from './sql/token-views.js';
import { validateLease } from './sql/validate-lease.js';
import { concernsHolder, TOKEN_EVENTS_CHANNEL, type TokenEvent } from './token-events.js';
import {
  EventsQuery,
  HistoryEntry,
  HistoryQuery,
  Lease,
  LeaseBody,
  MAX_METADATA_BYTES,
  Released,
  TokenDetail,
  TokenEventPayloads,
  TokenList,
  TokenListQuery,
  ValidateQuery,
  Validation,
} from './tokens.schemas.js';
import { createTokensService, type TokensDeps } from './tokens.service.js';

const tags = ['tokens'];

const routes: FastifyPluginAsyncTypebox<{ deps: TokensDeps }> = async (app, { deps }) => {
  const { db } = deps.database;
  const tokens = createTokensService(deps);
  // Before the server waits for open requests to finish: waiting ones are answered at once.
  app.addHook('preClose', () => tokens.close());

  app.post(
    '/tokens/lease',
    {
      config: { auth: 'user', scope: 'tokens:lease' },
      schema: {
        operationId: 'leaseToken',
        tags,
        summary: 'Lease a token',
        description:
          '201 with a new lease: a free token, or the oldest lease evicted when none is free (with ' +
          '`onFull: "fail"`, 409 POOL_FULL instead; with `onFull: "wait"`, a token freed within `waitSeconds`, else ' +
          '409 POOL_FULL). 200 with the same lease, unchanged (its fence and metadata too), when the holder already ' +
          'has an active one. Tokens freed while requests wait go to them, in the order they came: an evicting ' +
          'request then evicts, and one that finds every token free but promised to waiters hears 409 POOL_FULL.',
        body: LeaseBody,
        response: { 200: Lease, 201: Lease, ...problems(400, 403, 409) },
      },
    },
    async (request, reply) => {
      const asked = request.body ?? {};
      if (asked.metadata && Buffer.byteLength(JSON.stringify(asked.metadata)) > MAX_METADATA_BYTES) {
        throw errors.validation('The body is invalid.', [
          { field: 'metadata', message: `must be at most ${MAX_METADATA_BYTES} bytes as JSON` },
        ]);
      }
      if (asked.waitSeconds !== undefined && asked.onFull !== 'wait') {
        throw errors.validation('The body is invalid.', [
          { field: 'waitSeconds', message: 'goes with onFull "wait" only' },
        ]);
      }
      const lease = await tokens.lease(
        principal(request),
        asked,
        auditOrigin(request),
        asked.onFull === 'wait' ? clientGone(reply) : undefined,
      );
      const { tokenId, userId, leasedAt, expiresAt, evictedUserId, fence, metadata } = lease;
      return reply
        .status(lease.created ? 201 : 200)
        .send({ tokenId, userId, leasedAt, expiresAt, evictedUserId, fence, metadata });
    },
  );

  app.get(
    '/tokens',
    {
      config: { auth: 'user', scope: 'tokens:read' },
      schema: {
        operationId: 'listTokens',
        tags,
        summary: 'Every token and its status',
        description: "Every token of the pool, or those with the given `status`, and the pool's counts.",
        querystring: TokenListQuery,
        response: { 200: TokenList },
      },
    },
    async (request) => {
      const [data, meta] = await Promise.all([listTokens(db, request.query.status), countTokens(db)]);
      return { data, meta };
    },
  );

  app.delete(
    '/tokens/active',
    {
      config: { auth: 'admin', scope: 'pools:admin' },
      schema: {
        operationId: 'clearTokens',
        tags,
        summary: 'End every active lease (as cleared)',
        description: 'Admins only. Every active lease ends as `cleared`; the answer says how many.',
        response: { 200: Released },
      },
    },
    async (request) => ({ released: await tokens.clear(principal(request), auditOrigin(request)) }),
  );

  app.get(
    '/tokens/events',
    {
      config: { streamTicket: true, auth: 'user', scope: 'tokens:read' },
      schema: {
        operationId: 'streamTokenEvents',
        tags,
        summary: 'Live pool changes (Server-Sent Events)',
        description:
          'Events `leased`, `released`, `expired`, `evicted` and `cleared`, from every process, as they happen. ' +
          'With `userId`, only the events about that holder (and `cleared`, which may end anyone’s lease): ' +
          'users may ask for themselves, admins for anyone. The stream ends when the session that opened it ends.',
        querystring: EventsQuery,
        response: {
          200: eventStreamResponse('Server-Sent Events, one per change of the pool.', TokenEventPayloads),
        },
      },
    },
    async (request, reply) => {
      const caller = principal(request);
      const holder = request.query.userId;
      if (holder && holder !== caller.userId && caller.role !== 'admin') {
        throw errors.forbidden('Only admins may follow the events of another holder.');
      }
      await streamChannel(request, reply, deps.events, TOKEN_EVENTS_CHANNEL, caller, (stream, message) => {
        const event = message as TokenEvent;
        if (!holder || concernsHolder(event, holder)) stream.send(event.type, event);
      });
    },
  );

  app.get(
    '/tokens/:id',
    {
      config: { auth: 'user', scope: 'tokens:read' },
      schema: {
        operationId: 'getToken',
        tags,
        summary: 'One token, with its 10 latest leases',
        description: 'The token, its current lease if it is active, and its 10 latest leases, newest first.',
        params: IdParams,
        response: { 200: TokenDetail, ...problems(400, 404) },
      },
    },
    async (request) => {
      const token = await findToken(db, request.params.id);
      if (!token) throw errors.notFound('The token');
      return { ...token, history: await tokenHistory(db, token.id, 10, 0) };
    },
  );

  pagedListRoute(app, '/tokens/:id/history', {
    auth: 'user',
    scope: 'tokens:read',
    operationId: 'getTokenHistory',
    tags,
    summary: "A page of the token's leases, newest first",
    description:
      'Every lease the token had, with how it ended: `expired`, `released`, `evicted` or `cleared` ' +
      '(null while it runs).',
    params: IdParams,
    querystring: HistoryQuery,
    item: HistoryEntry,
    problems: [400, 404],
    source: async (request) => {
      const { id } = request.params;
      if (!(await findToken(db, id))) throw errors.notFound('The token');
      return {
        rows: (limit, offset) => tokenHistory(db, id, limit, offset),
        count: () => countTokenHistory(db, id),
      };
    },
  });

  app.post(
    '/tokens/:id/release',
    {
      config: { auth: 'user', scope: 'tokens:lease' },
      schema: {
        operationId: 'releaseToken',
        tags,
        summary: 'End the lease on this token (holder or admin)',
        description:
          'Ends the active lease as `released` and answers it. 409 `TOKEN_NOT_ACTIVE` when the token has no ' +
          'active lease (it may have expired or been evicted meanwhile).',
        params: IdParams,
        response: { 200: HistoryEntry, ...problems(400, 403, 404, 409) },
      },
    },
    async (request) => {
      const { userId, leasedAt, expiresAt, endedAt, endReason, fence, metadata } = await tokens.release(
        principal(request),
        request.params.id,
        auditOrigin(request),
      );
      return { userId, leasedAt, expiresAt, endedAt, endReason, fence, metadata };
    },
  );

  app.get(
    '/tokens/:id/validate',
    {
      config: { auth: 'user', scope: 'tokens:read' },
      schema: {
        operationId: 'validateLease',
        tags,
        summary: 'Whether a holder still holds this token under this fence',
        description:
          'For a service the token guards: `valid: true` with `expiresAt` while that holder and fence are the ' +
          "token's current lease, else why not. Decided by the database clock; one indexed read, no write.",
        params: IdParams,
        querystring: ValidateQuery,
        response: { 200: Validation, ...problems(400, 404) },
      },
    },
    async (request) => {
      const validation = await validateLease(db, request.params.id, request.query.userId, request.query.fence);
      if (!validation) throw errors.notFound('The token');
      return validation;
    },
  );
};

export const tokensRoutes = moduleRoutes('tokens-routes', routes);
