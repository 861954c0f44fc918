import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errors } from '../../infra/http/errors.js';
import { principal } from '../../infra/http/principal.js';
import { moduleRoutes } from '../../infra/http/route-auth.js';
import { IdParams, Paged, problems, readPage } from '../../infra/http/schemas.js';
import { eventStreamResponse, streamChannel } from '../../infra/http/sse.js';
import { auditOrigin } from '../audit/audit-origin.js';
import { countTokenHistory, tokenHistory } from './sql/token-history.js';
import { countTokens, findToken, listTokens } from './sql/token-views.js';
import { TOKEN_EVENTS_CHANNEL, type TokenEvent } from './token-events.js';
import {
  HistoryEntry,
  HistoryQuery,
  Lease,
  LeaseBody,
  Released,
  TokenDetail,
  TokenEventPayloads,
  TokenList,
  TokenListQuery,
} from './tokens.schemas.js';
import { createTokensService, type TokensDeps } from './tokens.service.js';

const tags = ['tokens'];

const routes: FastifyPluginAsyncTypebox<{ deps: TokensDeps }> = async (app, { deps }) => {
  const { db } = deps.database;
  const tokens = createTokensService(deps);

  app.post(
    '/tokens/lease',
    {
      config: { auth: 'user' },
      schema: {
        operationId: 'leaseToken',
        tags,
        summary: 'Lease a token',
        description:
          '201 with a new lease: a free token, or the oldest lease evicted when none is free. ' +
          '200 with the same lease, unchanged, when the holder already has an active one.',
        body: LeaseBody,
        response: { 200: Lease, 201: Lease, ...problems(400, 403) },
      },
    },
    async (request, reply) => {
      const lease = await tokens.lease(principal(request), request.body?.userId, auditOrigin(request));
      const { tokenId, userId, leasedAt, expiresAt, evictedUserId } = lease;
      return reply.status(lease.created ? 201 : 200).send({ tokenId, userId, leasedAt, expiresAt, evictedUserId });
    },
  );

  app.get(
    '/tokens',
    {
      config: { auth: 'user' },
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
      config: { auth: 'admin' },
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
      config: { streamTicket: true, auth: 'user' },
      schema: {
        operationId: 'streamTokenEvents',
        tags,
        summary: 'Live pool changes (Server-Sent Events)',
        description:
          'Events `leased`, `released`, `expired`, `evicted` and `cleared`, from every process, as they happen. ' +
          'The stream ends when the session that opened it ends.',
        response: {
          200: eventStreamResponse('Server-Sent Events, one per change of the pool.', TokenEventPayloads),
        },
      },
    },
    async (request, reply) => {
      const session = principal(request).sessionId;
      await streamChannel(request, reply, deps.events, TOKEN_EVENTS_CHANNEL, session, (stream, message) => {
        const event = message as TokenEvent;
        stream.send(event.type, event);
      });
    },
  );

  app.get(
    '/tokens/:id',
    {
      config: { auth: 'user' },
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

  app.get(
    '/tokens/:id/history',
    {
      config: { auth: 'user' },
      schema: {
        operationId: 'getTokenHistory',
        tags,
        summary: "A page of the token's leases, newest first",
        description:
          'Every lease the token had, with how it ended: `expired`, `released`, `evicted` or `cleared` ' +
          '(null while it runs).',
        params: IdParams,
        querystring: HistoryQuery,
        response: { 200: Paged(HistoryEntry), ...problems(400, 404) },
      },
    },
    async (request) => {
      const { id } = request.params;
      if (!(await findToken(db, id))) throw errors.notFound('The token');
      return readPage(
        request.query,
        (limit, offset) => tokenHistory(db, id, limit, offset),
        () => countTokenHistory(db, id),
      );
    },
  );

  app.post(
    '/tokens/:id/release',
    {
      config: { auth: 'user' },
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
      const { userId, leasedAt, expiresAt, endedAt, endReason } = await tokens.release(
        principal(request),
        request.params.id,
        auditOrigin(request),
      );
      return { userId, leasedAt, expiresAt, endedAt, endReason };
    },
  );
};

export const tokensRoutes = moduleRoutes('tokens-routes', routes);
