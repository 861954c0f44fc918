import type { Logger } from '../logger.js';

/** A kind of job: its name on the queue, its payload type and how often it is retried. */
export interface JobType<Payload> {
  readonly name: string;
  /** How many times the job runs at most, the first run included. @defaultValue 5 */
  readonly attempts: number;
  /** Delay before the first retry; each further retry waits twice as long. @defaultValue 1000 */
  readonly backoffMs: number;
  /** Carries the payload type only; never set. */
  readonly payload?: Payload;
}

export function defineJob<Payload>(
  name: string,
  options: { attempts?: number; backoffMs?: number } = {},
): JobType<Payload> {
  return { name, attempts: options.attempts ?? 5, backoffMs: options.backoffMs ?? 1000 };
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
}

/** Pairs a job type with its handler, keeping the payload types in step. */
export function registerJob<Payload>(type: JobType<Payload>, handle: JobHandler<Payload>): JobRegistration<unknown> {
  return { type, handle } as unknown as JobRegistration<unknown>;
}

/** Thrown by a handler when running the job again cannot help: the queue gives up at once. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

/**
 * Jobs are delivered at least once: a handler must be safe to run twice with the same payload.
 */
export interface JobQueue {
  enqueue<Payload>(type: JobType<Payload>, payload: Payload): Promise<void>;
  /** Starts running jobs in this process. */
  process(registrations: readonly JobRegistration<unknown>[], options: { concurrency: number }): void;
  /** Stops taking jobs, waits for the running ones to finish, closes connections. */
  close(): Promise<void>;
  ping(): Promise<void>;
}

export function retryDelay(backoffMs: number, attempt: number): number {
  return backoffMs * 2 ** (attempt - 1);
}
