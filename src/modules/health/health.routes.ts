import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import type { Config } from '../../config.js';
import { within } from '../../infra/concurrency/deadline.js';
import type { Db } from '../../infra/db/database.js';
import { errors } from '../../infra/http/errors.js';
import { Problem, problemResponse } from '../../infra/http/schemas.js';
import { countStuckJobs } from '../../infra/queue/jobs.sql.js';
import type { DependencyPings } from './dependency-pings.js';

const Live = Type.Object({ status: Type.Literal('ok') });

const State = Type.Union([Type.Literal('up'), Type.Literal('down')]);
const JobsState = Type.Union([Type.Literal('up'), Type.Literal('degraded')], {
  description: '`degraded` while some job has waited JOB_STUCK_SECONDS to start (`stuckJobs` says how many).',
});
const Checks = Type.Object(
  { database: State, redis: Type.Optional(State), jobs: Type.Optional(JobsState) },
  {
    description:
      'Whether each dependency answered in time (`redis` only when REDIS_URL is set), and whether jobs start ' +
      '(`jobs`, when the database answered): stuck jobs degrade the service without making it unready.',
  },
);
const Ready = Type.Object({
  status: Type.Literal('ok'),
  checks: Checks,
  stuckJobs: Type.Optional(Type.Integer({ minimum: 0, description: 'Jobs that have waited too long to start.' })),
});
const NotReady = Type.Object(
  { ...Problem.properties, checks: Checks },
  { description: 'A problem document (code UNAVAILABLE, with Retry-After) naming what is down.' },
);

/** Up when the ping answers within `timeoutMs`; a ping still waiting then counts as down. */
function check(ping: () => Promise<unknown>, timeoutMs: number): Promise<Static<typeof State>> {
  const answered = ping().then(
    () => 'up' as const,
    () => 'down' as const,
  );
  return within(answered, timeoutMs, 'down' as const);
}

/** What the probes are built from. */
export interface HealthDeps {
  readonly config: Pick<Config, 'READINESS_TIMEOUT_MS' | 'JOB_STUCK_SECONDS'>;
  readonly pings: DependencyPings;
  readonly database: { readonly db: Db };
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
      // Within the same bound: a count that does not come in time says nothing, rather than delay the probe.
      const counted = countStuckJobs(deps.database.db, deps.config.JOB_STUCK_SECONDS * 1000).catch(() => undefined);
      const stuckJobs = await within(counted, timeoutMs, undefined);
      if (stuckJobs === undefined) return { status: 'ok' as const, checks };
      return {
        status: 'ok' as const,
        checks: { ...checks, jobs: stuckJobs > 0 ? ('degraded' as const) : ('up' as const) },
        stuckJobs,
      };
    },
  );
};
