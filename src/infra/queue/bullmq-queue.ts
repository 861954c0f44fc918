import { randomUUID } from 'node:crypto';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { serialRounds } from '../concurrency/serial-rounds.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { isRedisConnectionError } from '../redis.js';
import type { JobCounters } from './jobs.metrics.js';
import { claimForRelay, completeJob, failJob, markRelayed, releaseRelayClaims, type StoredJob } from './jobs.sql.js';
import { type JobFailure, type JobQueue, type JobRegistration, retryDelay } from './queue.js';
import { describeJobError, runJob } from './run-job.js';

const QUEUE_NAME = 'jobs';
// Retries end when a job's retry window closes (run-job.ts), not after a count of attempts.
const UNLIMITED_ATTEMPTS = 1_000_000;
const BACKOFF_TYPE = 'capped';
const RELAY_BATCH = 100;

export interface BullmqQueueOptions {
  redis: Redis;
  db: Db;
  logger: Logger;
  /** How often the relay looks for committed jobs that no wake-up announced. */
  pollMs: number;
  /** How long the relay waits for Redis before it leaves the jobs for its next try. */
  sendTimeoutMs: number;
  /** How long closing waits for the worker (its running jobs included) before it goes on without it. */
  closeTimeoutMs: number;
  onFailure: (failure: JobFailure) => Promise<void>;
  counters: JobCounters;
  /** Key prefix in Redis; tests give each file its own. @defaultValue 'tokenpool' */
  prefix?: string;
}

/** The data a relayed job carries on BullMQ: its row in the jobs table, and its payload. */
interface RelayedJob {
  id: string;
  createdAt: number;
  payload: unknown;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The production queue: a relay moves committed rows of the jobs table to BullMQ on Redis (every
 * process relays: the one that wrote a job is woken at once, the others poll for what a crash or
 * an outage left behind), and `worker` processes run them from there.
 */
export function createBullmqQueue(options: BullmqQueueOptions): JobQueue {
  const {
    redis,
    db,
    logger,
    pollMs,
    sendTimeoutMs,
    closeTimeoutMs,
    onFailure,
    counters,
    prefix = 'tokenpool',
  } = options;
  const queue = new Queue(QUEUE_NAME, { connection: redis, prefix });
  // BullMQ reports every failed reconnect of each of its connections: one warning per outage is
  // enough (the jobs wait in the table meanwhile); anything else is an error each time.
  let outageReported = false;
  redis.on('ready', () => {
    outageReported = false;
  });
  const reportError = (source: string) => (error: Error) => {
    const reason = describeJobError(error);
    if (!isRedisConnectionError(error)) return logger.error({ reason }, `${source} error`);
    if (outageReported) return logger.debug({ reason }, `${source} error`);
    outageReported = true;
    logger.warn({ reason }, `${source} lost Redis; jobs wait in the database until it is back`);
  };
  queue.on('error', reportError('job queue'));
  let worker: Worker | undefined;
  let closed = false;
  let relayFailing = false;
  const relayId = `relay-${randomUUID()}`;

  const send = (jobs: StoredJob[]) =>
    withTimeout(
      queue.addBulk(
        jobs.map((job) => ({
          name: job.kind,
          data: { id: job.id, createdAt: job.createdAt, payload: job.payload } satisfies RelayedJob,
          // The row's id as the job's id: relaying a row twice queues it once.
          opts: {
            jobId: `job-${job.id}`,
            attempts: UNLIMITED_ATTEMPTS,
            backoff: { type: BACKOFF_TYPE },
            removeOnComplete: { count: 1000 },
            removeOnFail: { count: 10_000 },
          },
        })),
      ),
      sendTimeoutMs,
      'queueing jobs on Redis',
    ).then(() => undefined);

  const relaying = serialRounds(
    async () => {
      // Claimed for twice the time a send may take: long enough, and soon free if this dies.
      const jobs = await claimForRelay(db, relayId, RELAY_BATCH, 2 * sendTimeoutMs);
      if (jobs.length === 0) return false;
      const ids = jobs.map((job) => job.id);
      try {
        await send(jobs);
      } catch (error) {
        await releaseRelayClaims(db, relayId, ids).catch(() => {});
        throw error;
      }
      await markRelayed(db, relayId, ids);
      return jobs.length === RELAY_BATCH;
    },
    {
      stopped: () => closed,
      settled: (error) => {
        if (!error) {
          if (relayFailing) logger.info('relaying jobs to Redis again');
          relayFailing = false;
          return;
        }
        // Said once per outage: the jobs wait in the table, and the next poll tries again.
        if (!relayFailing)
          logger.warn({ reason: describeJobError(error) }, 'could not relay jobs to Redis; will retry');
        relayFailing = true;
      },
    },
  );
  const relay = () => relaying.kick();

  const poller = setInterval(relay, pollMs);
  relay();

  return {
    process(registrations, { concurrency }) {
      const byName = new Map<string, JobRegistration<unknown>>(registrations.map((r) => [r.type.name, r]));
      worker = new Worker<RelayedJob>(
        QUEUE_NAME,
        async (job) => {
          const registration = byName.get(job.name);
          if (!registration) throw new UnrecoverableError(`no handler for job ${job.name}`);
          const { id, createdAt, payload } = job.data;
          const claimed = { id, kind: job.name, payload, createdAt, attempt: job.attemptsMade + 1 };
          const outcome = await runJob(registration, claimed, { logger, counters, onFailure });
          if (outcome.kind === 'retry') throw new Error(outcome.error);
          const record = outcome.kind === 'done' ? completeJob(db, id) : failJob(db, id, outcome.reason);
          await record.catch((error: unknown) =>
            logger.warn({ jobId: id, reason: describeJobError(error) }, 'could not record a job run'),
          );
          if (outcome.kind === 'given-up') throw new UnrecoverableError(outcome.reason);
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
          settings: {
            backoffStrategy: (attemptsMade, _type, _error, job) => {
              const registration = job ? byName.get(job.name) : undefined;
              return registration ? retryDelay(registration.retry, attemptsMade) : 1000;
            },
          },
        },
      );
      worker.on('error', reportError('job worker'));
    },
    wake() {
      setImmediate(relay);
    },
    async close() {
      closed = true;
      clearInterval(poller);
      await relaying.idle();
      // Worker.close waits for the jobs it is running to finish, and for its waiting connection to
      // end, which never happens if that connection was between two reconnects (BullMQ #4585). So
      // it has closeTimeoutMs; jobs still running then go back to the queue through the stalled check.
      if (worker)
        await withTimeout(worker.close(), closeTimeoutMs, 'closing the job worker').catch((error: unknown) =>
          logger.warn({ reason: describeJobError(error) }, 'went on without the job worker'),
        );
      await queue.close();
    },
  };
}
