import type { Deps } from './deps.js';
import { registerJobsGauge } from './infra/queue/jobs.metrics.js';
import { registerDependencyGauge } from './modules/health/health.metrics.js';
import { registerImportsGauge } from './modules/imports/imports.metrics.js';
import { registerPoolGauge } from './modules/tokens/tokens.metrics.js';

/** The gauges every process reads from the database (or pings) at scrape time. */
export function registerMetricReaders({ metrics, database: { db }, pings, config }: Deps): void {
  registerPoolGauge(metrics, db);
  registerImportsGauge(metrics, db);
  registerJobsGauge(metrics, db, config.JOB_STUCK_SECONDS * 1000);
  registerDependencyGauge(metrics, pings);
}
