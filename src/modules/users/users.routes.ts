import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Database } from '../../infra/db/database.js';
import { errors } from '../../infra/http/errors.js';
import { pagedListRoute } from '../../infra/http/paged-list-route.js';
import { principal } from '../../infra/http/principal.js';
import { moduleRoutes } from '../../infra/http/route-auth.js';
import { problems } from '../../infra/http/schemas.js';
import { insertAuditEntry } from '../audit/audit.sql.js';
import { auditOrigin } from '../audit/audit-origin.js';
import { type InvitationDeps, inviteUser } from './invitations.js';
import {
  CreateServiceAccountBody,
  InviteBody,
  presentServiceAccount,
  presentUser,
  ServiceAccount,
  User,
  UserResponse,
} from './users.schemas.js';
import { countUsers, findUserById, insertServiceAccount, listUsers } from './users.sql.js';

/** What the users' routes are built from. */
export interface UsersDeps extends InvitationDeps {
  readonly database: Database;
}

const routes: FastifyPluginAsyncTypebox<{ deps: UsersDeps }> = async (app, { deps }) => {
  const { db } = deps.database;

  app.get(
    '/users/me',
    {
      config: { auth: 'user' },
      schema: {
        operationId: 'getMe',
        tags: ['users'],
        summary: 'The signed-in user',
        description: 'The account of the session the access token belongs to.',
        response: { 200: User },
      },
    },
    async (request) => {
      const user = await findUserById(db, principal(request).userId);
      if (!user) throw errors.unauthenticated('The account no longer exists.');
      return presentUser(user);
    },
  );

  pagedListRoute(app, '/users', {
    // E-mail addresses and birth dates are private: only admins see the accounts.
    auth: 'admin',
    scope: 'users:read',
    operationId: 'listUsers',
    tags: ['users'],
    summary: 'A page of users, newest first',
    description: 'Admins only: the accounts, 10 a page unless `pageSize` (up to 100) says otherwise.',
    item: User,
    source: () => ({
      rows: async (limit, offset) => (await listUsers(db, limit, offset)).map(presentUser),
      count: () => countUsers(db),
    }),
  });

  app.post(
    '/users',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'inviteUser',
        tags: ['users'],
        summary: 'Invite someone: an account, and an e-mail to choose its password',
        description:
          'Admins only, whether or not registration is open. The account has no password until the invitee ' +
          'follows the e-mailed link (a password reset link, valid 72 hours). 409 `EMAIL_TAKEN` when the ' +
          'e-mail is taken (case-insensitively). Audited as `user.invited`.',
        body: InviteBody,
        response: { 201: UserResponse, ...problems(400, 409) },
      },
    },
    async (request, reply) => {
      const user = await inviteUser(deps, principal(request), request.body, auditOrigin(request));
      return reply.status(201).send({ user: presentUser(user) });
    },
  );

  app.post(
    '/service-accounts',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'createServiceAccount',
        tags: ['users'],
        summary: 'Make a service account: an account for a program',
        description:
          'Admins only. A user of kind `service`, with no e-mail and no password: nobody can sign in as it. An admin ' +
          'makes API keys for it (`POST /api-keys` with `ownerId`), which keep working whoever leaves. Listed in ' +
          '`GET /users`. Audited as `service_account.created`.',
        body: CreateServiceAccountBody,
        response: { 201: ServiceAccount, ...problems(400) },
      },
    },
    async (request, reply) => {
      const caller = principal(request);
      const account = await db.transaction(async (tx) => {
        const row = await insertServiceAccount(tx, { name: request.body.name.trim(), role: request.body.role });
        await insertAuditEntry(tx, {
          action: 'service_account.created',
          userId: caller.userId,
          target: { type: 'user', id: row.id },
          metadata: { role: row.role },
          context: auditOrigin(request),
        });
        return row;
      });
      return reply.status(201).send(presentServiceAccount(account));
    },
  );
};

export const usersRoutes = moduleRoutes('users-routes', routes);
