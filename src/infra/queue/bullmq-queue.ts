import { Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { type JobHandler, type JobQueue, PermanentJobError } from './queue.js';

const QUEUE_NAME = 'jobs';

export interface BullmqQueueOptions {
  redis: Redis;
  logger: Logger;
  /** Key prefix in Redis; tests give each file its own. @defaultValue 'tokenpool' */
  prefix?: string;
}

/** The production queue: BullMQ on Redis, shared by every `api` and `worker` process. */
export function createBullmqQueue({ redis, logger, prefix = 'tokenpool' }: BullmqQueueOptions): JobQueue {
  const queue = new Queue(QUEUE_NAME, { connection: redis, prefix });
  queue.on('error', (error) => logger.error({ err: error }, 'job queue error'));
  let worker: Worker | undefined;

  return {
    async enqueue(type, payload) {
      await queue.add(type.name, payload, {
        attempts: type.attempts,
        backoff: { type: 'exponential', delay: type.backoffMs },
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 10_000 },
      });
    },
    process(registrations, { concurrency }) {
      const handlers = new Map<string, JobHandler<unknown>>(registrations.map((r) => [r.type.name, r.handle]));
      worker = new Worker(
        QUEUE_NAME,
        async (job) => {
          const handle = handlers.get(job.name);
          if (!handle) throw new UnrecoverableError(`no handler for job ${job.name}`);
          try {
            await handle(job.data, {
              attempt: job.attemptsMade + 1,
              logger: logger.child({ job: job.name, jobId: job.id }),
            });
          } catch (error) {
            if (error instanceof PermanentJobError) throw new UnrecoverableError(error.message);
            throw error;
          }
        },
        {
          connection: redis,
          prefix,
          concurrency,
          // A worker that dies (SIGKILL, lost machine) stops renewing its job's lock; after
          // lockDuration another worker's stalled check puts the job back, to resume elsewhere.
          lockDuration: 10_000,
          stalledInterval: 5_000,
          maxStalledCount: 5,
        },
      );
      worker.on('failed', (job, error) =>
        logger.warn({ job: job?.name, jobId: job?.id, attempt: job?.attemptsMade, err: error }, 'job failed'),
      );
      worker.on('error', (error) => logger.error({ err: error }, 'job worker error'));
    },
    async close() {
      // Worker.close waits for the jobs it is running to finish.
      await worker?.close();
      await queue.close();
    },
    async ping() {
      await redis.ping();
    },
  };
}
