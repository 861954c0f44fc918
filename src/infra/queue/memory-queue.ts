import type { Logger } from '../logger.js';
import { type JobHandler, type JobQueue, type JobType, PermanentJobError, retryDelay } from './queue.js';

interface Pending {
  readonly name: string;
  readonly payload: unknown;
  readonly attempt: number;
}

/**
 * The embedded queue: jobs run in this process, with the same retries and backoff as on Redis.
 * Jobs waiting for a retry when the process stops are lost; use Redis where that matters.
 */
export function createMemoryQueue(logger: Logger): JobQueue {
  const pending: Pending[] = [];
  const handlers = new Map<string, { type: JobType<unknown>; handle: JobHandler<unknown> }>();
  const retryTimers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  let concurrency = 0;
  let closed = false;

  function pump(): void {
    while (!closed && running.size < concurrency && pending.length > 0) {
      const next = pending.shift() as Pending;
      const run = execute(next).finally(() => {
        running.delete(run);
        pump();
      });
      running.add(run);
    }
  }

  async function execute(job: Pending): Promise<void> {
    const registration = handlers.get(job.name);
    if (!registration) {
      logger.error({ job: job.name }, 'no handler for job');
      return;
    }
    const { type, handle } = registration;
    try {
      await handle(job.payload, { attempt: job.attempt, logger: logger.child({ job: job.name }) });
    } catch (error) {
      const retry = !(error instanceof PermanentJobError) && job.attempt < type.attempts;
      logger.warn({ job: job.name, attempt: job.attempt, err: error, retry }, 'job failed');
      if (retry && !closed) {
        const timer = setTimeout(
          () => {
            retryTimers.delete(timer);
            pending.push({ ...job, attempt: job.attempt + 1 });
            pump();
          },
          retryDelay(type.backoffMs, job.attempt),
        );
        retryTimers.add(timer);
      }
    }
  }

  return {
    async enqueue(type, payload) {
      if (closed) throw new Error('the job queue is closed');
      pending.push({ name: type.name, payload, attempt: 1 });
      // Defer, so a job never runs inside the request that queued it.
      setImmediate(pump);
    },
    process(registrations, options) {
      for (const registration of registrations) handlers.set(registration.type.name, registration);
      concurrency = options.concurrency;
      setImmediate(pump);
    },
    async close() {
      closed = true;
      for (const timer of retryTimers) clearTimeout(timer);
      retryTimers.clear();
      await Promise.allSettled([...running]);
    },
    async ping() {},
  };
}
