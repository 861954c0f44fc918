import { randomUUID } from 'node:crypto';
import { serialRounds } from '../concurrency/serial-rounds.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { JobCounters } from './jobs.metrics.js';
import {
  type ClaimedJob,
  claimDueJobs,
  completeJob,
  extendClaims,
  failJob,
  releaseClaims,
  retryJob,
} from './jobs.sql.js';
import type { JobFailure, JobQueue, JobRegistration } from './queue.js';
import { describeJobError, runJob } from './run-job.js';

export interface DatabaseQueueOptions {
  db: Db;
  logger: Logger;
  /** How often to look for due jobs that no wake-up announced. */
  pollMs: number;
  onFailure: (failure: JobFailure) => Promise<void>;
  counters: JobCounters;
  /**
   * This process is the only one that can open the database (PGlite), so a claim found at start
   * was left by a process that died and is released at once rather than after it lapses.
   */
  soleRunner: boolean;
  /** How long a claim lasts unless renewed; a runner renews its claims at a third of it. @defaultValue 30000 */
  leaseMs?: number;
}

/**
 * The embedded queue: jobs run in this process, straight from the jobs table, so a job survives a
 * crash or a restart (it is claimed again once its claim lapses). Also correct with several
 * processes on one PostgreSQL without Redis: claims are row locks and leases.
 */
export function createDatabaseQueue(options: DatabaseQueueOptions): JobQueue {
  const { db, logger, pollMs, onFailure, counters, soleRunner, leaseMs = 30_000 } = options;
  const runner = randomUUID();
  const registrations = new Map<string, JobRegistration<unknown>>();
  const running = new Map<string, Promise<void>>();
  const timers: NodeJS.Timeout[] = [];
  let concurrency = 0;
  let closed = false;
  const polling = serialRounds(
    async () => {
      const free = concurrency - running.size;
      if (free <= 0) return false;
      const claimed = await claimDueJobs(db, runner, free, leaseMs);
      for (const job of claimed) start(job);
      // A full claim may have left more behind.
      return claimed.length === free;
    },
    {
      stopped: () => closed || concurrency === 0,
      settled: (error) => {
        if (error) logger.warn({ reason: describeJobError(error) }, 'could not claim jobs');
      },
    },
  );
  const poll = () => polling.kick();

  function start(job: ClaimedJob): void {
    const run = execute(job).finally(() => {
      running.delete(job.id);
      poll();
    });
    running.set(job.id, run);
  }

  async function execute(job: ClaimedJob): Promise<void> {
    const registration = registrations.get(job.kind);
    try {
      if (!registration) {
        await failJob(db, job.id, `no handler for ${job.kind}`);
        return;
      }
      const outcome = await runJob(registration, job, { logger, counters, onFailure });
      if (outcome.kind === 'done') await completeJob(db, job.id);
      else if (outcome.kind === 'retry') await retryJob(db, job.id, runner, outcome.delayMs, outcome.error);
      else await failJob(db, job.id, outcome.reason);
    } catch (error) {
      // The claim lapses and the job runs again: at least once, never lost.
      logger.warn({ job: job.kind, jobId: job.id, reason: describeJobError(error) }, 'could not record a job run');
    }
  }

  return {
    process(list, { concurrency: limit }) {
      for (const registration of list) registrations.set(registration.type.name, registration);
      concurrency = limit;
      timers.push(setInterval(poll, pollMs));
      timers.push(
        setInterval(() => {
          extendClaims(db, runner, [...running.keys()], leaseMs).catch((error: unknown) =>
            logger.warn({ reason: describeJobError(error) }, 'could not renew job claims'),
          );
        }, leaseMs / 3),
      );
      const ready = soleRunner ? releaseClaims(db) : Promise.resolve();
      ready.then(poll, (error: unknown) =>
        logger.warn({ reason: describeJobError(error) }, 'could not release stale job claims'),
      );
    },
    wake() {
      // Deferred, so a job never runs inside the request that queued it.
      setImmediate(poll);
    },
    async close() {
      closed = true;
      for (const timer of timers) clearInterval(timer);
      await polling.idle();
      await Promise.allSettled([...running.values()]);
    },
  };
}
