import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.js';
import { holdDeploymentLease } from '../db/deployment-leases.sql.js';
import type { DatabaseGauges } from './metrics.js';

const LEASE = 'metrics.database-gauges';
// Longer than any usual scrape interval: the exporting process renews it at each of its scrapes,
// and another takes over within this long after the exporter's last scrape (it died, or left).
const LEASE_SECONDS = 60;
// One scrape reads several gauges: they share one answer.
const ANSWER_MS = 1000;

/**
 * Gauges read from the database are exported by one process of the deployment at a time, the one
 * holding a lease in the database: every process reads the same rows, so each one exporting them
 * would make any sum over scrape targets count them once per process.
 */
export function databaseGauges(db: Db): DatabaseGauges {
  const holder = randomUUID();
  let answer: { at: number; exporting: Promise<boolean> } | undefined;
  return {
    db,
    exporting() {
      const now = Date.now();
      if (!answer || now - answer.at > ANSWER_MS) {
        answer = { at: now, exporting: holdDeploymentLease(db, LEASE, holder, LEASE_SECONDS).catch(() => false) };
      }
      return answer.exporting;
    },
  };
}
