import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Database } from '../../infra/db/database.js';
import { errors } from '../../infra/http/errors.js';
import { pagedListRoute } from '../../infra/http/paged-list-route.js';
import { principal } from '../../infra/http/principal.js';
import { moduleRoutes } from '../../infra/http/route-auth.js';
import { problems } from '../../infra/http/schemas.js';
import { auditOrigin } from '../audit/audit-origin.js';
import { type InvitationDeps, inviteUser } from './invitations.js';
import { InviteBody, presentUser, User, UserResponse } from './users.schemas.js';
import { countUsers, findUserById, listUsers } from './users.sql.js';

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
};

export const usersRoutes = moduleRoutes('users-routes', routes);
