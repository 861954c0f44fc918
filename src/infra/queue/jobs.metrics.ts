import type { Registry } from 'prom-client';
import { jobs } from '../db/schema.js';
import { counter, type DatabaseGauges, gauge, readFromDatabase } from '../metrics/metrics.js';
import { registerStatusGauge } from '../metrics/status-gauge.js';
import { countStuckJobs } from './jobs.sql.js';

/**
 * The jobs table by status, read at each scrape: `pending` is the outbox backlog; and the jobs
 * that should have started `stuckAfterMs` ago and have not (see countStuckJobs).
 */
export function registerJobsGauge(registry: Registry, gauges: DatabaseGauges, stuckAfterMs: number): void {
  const help = 'Jobs in the jobs table by status: pending (the outbox backlog), relayed to Redis, failed.';
  registerStatusGauge(registry, gauges, { name: 'tokenpool_jobs', help }, jobs.status);
  readFromDatabase(
    registry,
    gauges,
    {
      name: 'tokenpool_jobs_stuck',
      help: 'Jobs due for JOB_STUCK_SECONDS that no worker has started: none took them, or Redis lost them.',
    },
    async (db) => [{ labels: {}, value: await countStuckJobs(db, stuckAfterMs) }],
  );
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
