import type { Registry } from 'prom-client';
import type { Db } from '../db/database.js';
import { jobs } from '../db/schema.js';
import { counter, gauge } from '../metrics/metrics.js';
import { registerStatusGauge } from '../metrics/status-gauge.js';

/** The jobs table by status, read at each scrape: `pending` is the outbox backlog. */
export function registerJobsGauge(registry: Registry, db: Db): void {
  const help = 'Jobs in the jobs table by status: pending (the outbox backlog), relayed to Redis, failed.';
  registerStatusGauge(registry, db, { name: 'tokenpool_jobs', help }, jobs.status);
}

/** What this process's runners did: runs by outcome, and the jobs running now. */
export function jobCounters(registry: Registry) {
  return {
    runs: counter(registry, {
      name: 'tokenpool_job_runs_total',
      help: 'Job runs by kind and outcome (done, retried, given_up).',
      labelNames: ['kind', 'outcome'],
    }),
    running: gauge(registry, { name: 'tokenpool_jobs_running', help: 'Jobs running in this process.' }),
  };
}

export type JobCounters = ReturnType<typeof jobCounters>;
