import type { Logger } from '../logger.js';

/** A kind of job: its name in the jobs table and on the queue, and its payload type. */
export interface JobType<Payload> {
  readonly name: string;
  /** Carries the payload type only; never set. */
  readonly payload?: Payload;
}

export function defineJob<Payload>(name: string): JobType<Payload> {
  return { name };
}

/** How a failing job is retried: capped exponential backoff with jitter, for a while. */
export interface RetryPolicy {
  /** How long after the job was written it is still retried; then it is given up. */
  readonly retryForMs: number;
  /** The first retry's delay; each further one doubles, up to `maxBackoffMs`. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

/** The backoff every job shares; each job type says how long it keeps retrying. */
export type Backoff = Pick<RetryPolicy, 'backoffMs' | 'maxBackoffMs'>;

export function retryFor(seconds: number, backoff: Backoff): RetryPolicy {
  return { retryForMs: seconds * 1000, ...backoff };
}

/** The delay before retry number `attempt` (1 after the first failure), within ±20% jitter. */
export function retryDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(base * (0.8 + 0.4 * random()));
}

export interface JobContext {
  /** 1 on the first run. */
  readonly attempt: number;
  readonly logger: Logger;
}

export type JobHandler<Payload> = (payload: Payload, context: JobContext) => Promise<void>;

export interface JobRegistration<Payload = never> {
  readonly type: JobType<Payload>;
  readonly handle: JobHandler<Payload>;
  readonly retry: RetryPolicy;
  /** Called once when the job is given up, to leave what it was doing in a final state. */
  readonly giveUp?: (payload: Payload, reason: string) => Promise<void>;
}

/** Pairs a job type with its handler, keeping the payload types in step. */
export function registerJob<Payload>(
  type: JobType<Payload>,
  handle: JobHandler<Payload>,
  options: { retry: RetryPolicy; giveUp?: (payload: Payload, reason: string) => Promise<void> },
): JobRegistration<unknown> {
  return { type, handle, ...options } as unknown as JobRegistration<unknown>;
}

/** Thrown by a handler when running the job again cannot help: the job is given up at once. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

/** What a runner reports when it gives a job up: recorded for an admin, with no payload. */
export interface JobFailure {
  kind: string;
  jobId: string;
  attempts: number;
  reason: string;
}

/**
 * Runs the jobs written to the jobs table (see jobs.sql.ts). Jobs are delivered at least once: a
 * handler must be safe to run twice with the same payload.
 */
export interface JobQueue {
  /** Starts running jobs in this process. */
  process(registrations: readonly JobRegistration<unknown>[], options: { concurrency: number }): void;
  /** A job was just committed: look now rather than at the next poll. */
  wake(): void;
  /** Stops taking jobs, waits for the running ones to finish, closes connections. */
  close(): Promise<void>;
}
