import { errorMessage, type Logger } from '../logger.js';
import type { JobCounters } from './jobs.metrics.js';
import type { ClaimedJob } from './jobs.sql.js';
import { type JobFailure, type JobRegistration, PermanentJobError, retryDelay } from './queue.js';

export type JobOutcome =
  | { kind: 'done' }
  | { kind: 'retry'; delayMs: number; error: string }
  | { kind: 'given-up'; reason: string };

export interface RunJobOptions {
  logger: Logger;
  counters: JobCounters;
  /** Records a job given up (the audit log's job.failed). */
  onFailure: (failure: JobFailure) => Promise<void>;
  now?: () => number;
}

/**
 * An error as a job's log line and last_error hold it: its name and message, shortened. Never the
 * payload, nor what the job was reading (an import's rows).
 */
export function describeJobError(error: unknown): string {
  const text = errorMessage(error);
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/**
 * Runs one delivery of a job and decides what comes next, the same way for every runner: retried
 * with capped backoff while its retry window lasts, else given up — left in a final state by its
 * registration, and recorded. If giving up fails too (the database is away), it is retried later.
 */
export async function runJob(
  registration: JobRegistration<unknown>,
  job: ClaimedJob,
  { logger, counters, onFailure, now = Date.now }: RunJobOptions,
): Promise<JobOutcome> {
  counters.running.inc();
  try {
    const outcome = await decide(registration, job, { logger, onFailure, now });
    counters.runs.inc({
      kind: job.kind,
      outcome: outcome.kind === 'retry' ? 'retried' : outcome.kind.replace('-', '_'),
    });
    return outcome;
  } finally {
    counters.running.dec();
  }
}

async function decide(
  registration: JobRegistration<unknown>,
  job: ClaimedJob,
  { logger, onFailure, now }: Required<Omit<RunJobOptions, 'counters'>>,
): Promise<JobOutcome> {
  const log = logger.child({ job: job.kind, jobId: job.id, attempt: job.attempt });
  try {
    await registration.handle(job.payload as never, { attempt: job.attempt, logger: log });
    return { kind: 'done' };
  } catch (error) {
    const reason = describeJobError(error);
    const retry = () => ({
      kind: 'retry' as const,
      delayMs: retryDelay(registration.retry, job.attempt),
      error: reason,
    });
    if (!(error instanceof PermanentJobError) && now() - job.createdAt < registration.retry.retryForMs) {
      log.warn({ reason }, 'job failed; it will be retried');
      return retry();
    }
    try {
      await registration.giveUp?.(job.payload as never, reason);
      await onFailure({ kind: job.kind, jobId: job.id, attempts: job.attempt, reason });
    } catch (giveUpError) {
      log.warn({ reason: describeJobError(giveUpError) }, 'could not give the job up; it will be retried');
      return retry();
    }
    log.error({ reason }, 'job given up');
    return { kind: 'given-up', reason };
  }
}
