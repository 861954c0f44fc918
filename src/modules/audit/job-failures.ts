import type { Db } from '../../infra/db/database.js';
import type { JobFailure } from '../../infra/queue/queue.js';
import { insertAuditEntry } from './audit.sql.js';
import { NO_REQUEST } from './audit-origin.js';

/** A job given up, in the audit log for an admin: its kind, row id, attempts and last error. */
export function recordJobFailure(db: Db) {
  return async (failure: JobFailure): Promise<void> => {
    await insertAuditEntry(db, {
      action: 'job.failed',
      userId: null,
      target: { type: 'job', id: failure.jobId },
      metadata: { job: failure.kind, attempts: failure.attempts, reason: failure.reason },
      context: NO_REQUEST,
    });
  };
}
