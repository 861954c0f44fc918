import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Database } from '../../infra/db/database.js';
import { errors } from '../../infra/http/errors.js';
import { pagedListRoute } from '../../infra/http/paged-list-route.js';
import { principal } from '../../infra/http/principal.js';
import { moduleRoutes } from '../../infra/http/route-auth.js';
import { IdParams, problems } from '../../infra/http/schemas.js';
import { AuditDetail, AuditQuery, AuditSummary } from './audit.schemas.js';
import { countAuditEntries, findAuditEntry, listAuditEntries } from './audit.sql.js';

const tags = ['audit'];

/** What the audit log's routes are built from. */
export interface AuditDeps {
  readonly database: Database;
}

const routes: FastifyPluginAsyncTypebox<{ deps: AuditDeps }> = async (app, { deps }) => {
  const { db } = deps.database;

  pagedListRoute(app, '/logs', {
    auth: 'user',
    scope: 'audit:read',
    operationId: 'listLogs',
    tags,
    summary: 'A page of audit entries, newest first',
    description: 'A user sees their own entries; an admin sees all and may filter by userId.',
    querystring: AuditQuery,
    item: AuditSummary,
    problems: [400, 403],
    source: (request) => {
      const caller = principal(request);
      const { action, userId } = request.query;
      if (caller.role !== 'admin' && userId && userId !== caller.userId) {
        throw errors.forbidden('Only admins may read the entries of other users.');
      }
      const filter = { action, userId: caller.role === 'admin' ? userId : caller.userId };
      return {
        rows: async (limit, offset) =>
          (await listAuditEntries(db, filter, limit, offset)).map((row) => ({
            ...row,
            createdAt: row.createdAt.toISOString(),
          })),
        count: () => countAuditEntries(db, filter),
      };
    },
  });

  app.get(
    '/logs/:id',
    {
      config: { auth: 'user', scope: 'audit:read' },
      schema: {
        operationId: 'getLog',
        tags,
        summary: 'One audit entry',
        description:
          'The entry with the user it concerns (null for entries written by background jobs), the IP and user ' +
          'agent of the request and its metadata. Its owner or an admin may read it.',
        params: IdParams,
        response: { 200: AuditDetail, ...problems(400, 403, 404) },
      },
    },
    async (request) => {
      const caller = principal(request);
      const found = await findAuditEntry(db, request.params.id);
      if (!found) throw errors.notFound('The audit entry');
      const { entry, user } = found;
      if (caller.role !== 'admin' && entry.userId !== caller.userId) {
        throw errors.forbidden('Only admins may read the entries of other users.');
      }
      return {
        id: entry.id,
        action: entry.action,
        user,
        target: entry.targetType && entry.targetId ? { type: entry.targetType, id: entry.targetId } : null,
        ip: entry.ip,
        userAgent: entry.userAgent,
        requestId: entry.requestId,
        metadata: entry.metadata,
        createdAt: entry.createdAt.toISOString(),
      };
    },
  );
};

export const auditRoutes = moduleRoutes('audit-routes', routes);
