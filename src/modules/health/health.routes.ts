import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Deps } from '../../deps.js';
import { errors } from '../../infra/http/errors.js';
import { problems } from '../../infra/http/schemas.js';

const Status = Type.Object({ status: Type.Literal('ok') });

export const healthRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  app.get(
    '/health/live',
    { schema: { tags: ['health'], summary: 'The process is up', response: { 200: Status } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/ready',
    {
      schema: {
        tags: ['health'],
        summary: 'The database and, when used, Redis answer',
        response: { 200: Status, ...problems(503) },
      },
    },
    async (request) => {
      const checks = await Promise.allSettled([deps.database.ping(), deps.queue.ping()]);
      const failed = ['database', 'queue'].filter((_, i) => checks[i]?.status === 'rejected');
      if (failed.length > 0) {
        request.log.warn({ failed }, 'readiness check failed');
        throw errors.unavailable(`Not ready: ${failed.join(', ')} did not answer.`);
      }
      return { status: 'ok' as const };
    },
  );
};
