import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Deps } from './deps.js';
import { registerProblemHandlers } from './infra/http/problem.js';
import { silentRequests } from './infra/http/request-logging.js';
import { registerMetrics } from './infra/metrics/metrics-routes.js';
import { healthRoutes } from './modules/health/health.routes.js';

/**
 * What a `worker` process serves on `WORKER_PORT`: its metrics and its health, for Prometheus and
 * an orchestrator. No API, no dashboard.
 */
export async function buildWorkerApp(deps: Deps): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: deps.logger as FastifyBaseLogger, logController: silentRequests() });
  registerProblemHandlers(app);
  registerMetrics(app, { registry: deps.metrics, token: deps.config.METRICS_TOKEN });
  await app.register(healthRoutes, { deps });
  return app;
}
