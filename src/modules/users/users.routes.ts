import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Database } from '../../infra/db/database.js';
import { errors } from '../../infra/http/errors.js';
import { pagedListRoute } from '../../infra/http/paged-list-route.js';
import { principal } from '../../infra/http/principal.js';
import { moduleRoutes } from '../../infra/http/route-auth.js';
import { presentUser, User } from './users.schemas.js';
import { countUsers, findUserById, listUsers } from './users.sql.js';

/** What the users' routes are built from. */
export interface UsersDeps {
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
    auth: 'user',
    operationId: 'listUsers',
    tags: ['users'],
    summary: 'A page of users, newest first',
    description: 'Any signed-in user may list the accounts, 10 a page unless `pageSize` (up to 100) says otherwise.',
    item: User,
    source: () => ({
      rows: async (limit, offset) => (await listUsers(db, limit, offset)).map(presentUser),
      count: () => countUsers(db),
    }),
  });
};

export const usersRoutes = moduleRoutes('users-routes', routes);
