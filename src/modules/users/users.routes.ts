import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../deps.js';
import { errors } from '../../infra/http/errors.js';
import { Paged, PageQuery, pageOf, pageOffset } from '../../infra/http/schemas.js';
import { principal } from '../auth/authenticate.js';
import { presentUser, User } from './users.schemas.js';
import { countUsers, findUserById, listUsers } from './users.sql.js';

export const usersRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const { db } = deps;

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

  app.get(
    '/users',
    {
      config: { auth: 'user' },
      schema: {
        operationId: 'listUsers',
        tags: ['users'],
        summary: 'A page of users, newest first',
        description:
          'Any signed-in user may list the accounts, 10 a page unless `pageSize` (up to 100) says otherwise.',
        querystring: PageQuery,
        response: { 200: Paged(User) },
      },
    },
    async (request) => {
      const query = request.query;
      const [rows, total] = await Promise.all([listUsers(db, query.pageSize, pageOffset(query)), countUsers(db)]);
      return pageOf(rows.map(presentUser), total, query);
    },
  );
};
