import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import type { Config } from '../../config.js';
import { errors } from '../../infra/http/errors.js';
import { Problem, problemResponse } from '../../infra/http/schemas.js';
import type { DependencyPings } from './dependency-pings.js';

const Live = Type.Object({ status: Type.Literal('ok') });

const State = Type.Union([Type.Literal('up'), Type.Literal('down')]);
const Checks = Type.Object(
  { database: State, redis: Type.Optional(State) },
  { description: 'Whether each dependency answered in time; `redis` only when REDIS_URL is set.' },
);
const Ready = Type.Object({ status: Type.Literal('ok'), checks: Checks });
const NotReady = Type.Object(
  { ...Problem.properties, checks: Checks },
  { description: 'A problem document (code UNAVAILABLE, with Retry-After) naming what is down.' },
);

/** Up when the ping answers within `timeoutMs`; a ping still waiting then counts as down. */
async function check(ping: () => Promise<unknown>, timeoutMs: number): Promise<Static<typeof State>> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Static<typeof State>>((resolve) => {
    timer = setTimeout(() => resolve('down'), timeoutMs);
  });
  const answered = ping().then(
    () => 'up' as const,
    () => 'down' as const,
  );
  const state = await Promise.race([answered, late]);
  clearTimeout(timer);
  return state;
}

/** What the probes are built from. */
export interface HealthDeps {
  readonly config: Pick<Config, 'READINESS_TIMEOUT_MS'>;
  readonly pings: DependencyPings;
}

export const healthRoutes: FastifyPluginAsyncTypebox<{ deps: HealthDeps }> = async (app, { deps }) => {
  app.get(
    '/health/live',
    {
      schema: {
        operationId: 'getLiveness',
        tags: ['health'],
        summary: 'The process is up',
        description:
          'Answers 200 while the process can serve requests, whatever its dependencies do: for a liveness probe, ' +
          'which should restart the process only when this fails.',
        response: { 200: Live },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/ready',
    {
      schema: {
        operationId: 'getReadiness',
        tags: ['health'],
        summary: 'The database and, when used, Redis answer',
        description: 'Answers within READINESS_TIMEOUT_MS (and a little), whatever the dependencies do.',
        response: { 200: Ready, 503: problemResponse(NotReady) },
      },
    },
    async (request) => {
      const timeoutMs = deps.config.READINESS_TIMEOUT_MS;
      const pings = Object.entries(deps.pings).flatMap(([name, ping]) => (ping ? [[name, ping] as const] : []));
      const states = await Promise.all(
        pings.map(async ([name, ping]) => [name, await check(ping, timeoutMs)] as const),
      );
      const checks = Object.fromEntries(states) as Static<typeof Checks>;
      const down = states.filter(([, state]) => state === 'down').map(([name]) => name);
      if (down.length > 0) {
        request.log.warn({ down }, 'not ready');
        throw errors.unavailable(`Not ready: ${down.join(', ')} did not answer.`, { checks });
      }
      return { status: 'ok' as const, checks };
    },
  );
};
