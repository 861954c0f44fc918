import type { Deps } from './deps.js';
import { databaseGauges } from './infra/metrics/database-gauges.js';
import { registerJobsGauge } from './infra/queue/jobs.metrics.js';
import { registerDependencyGauge } from './modules/health/health.metrics.js';
import { registerImportsGauge } from './modules/imports/imports.metrics.js';
import { registerPoolGauge } from './modules/tokens/tokens.metrics.js';

/**
 * The gauges read at scrape time: from the database by the one process of the deployment that
 * exports them (database-gauges.ts), and each process's own pings.
 */
export function registerMetricReaders({ metrics, database: { db }, pings, config }: Deps): void {
  const gauges = databaseGauges(db);
  registerPoolGauge(metrics, gauges);
  registerImportsGauge(metrics, gauges);
  registerJobsGauge(metrics, gauges, config.JOB_STUCK_SECONDS * 1000);
  registerDependencyGauge(metrics, pings);
}
