import { randomUUID } from 'node:crypto';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { withTimeout } from '../concurrency/deadline.js';
import { serialRounds } from '../concurrency/serial-rounds.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { isRedisConnectionError } from '../redis.js';
import type { JobCounters } from './jobs.metrics.js';
import {
  type CheckedState,
  claimForRelay,
  claimRelayedForCheck,
  completeJob,
  failJob,
  findJobToRun,
  markRelayed,
  recordChecks,
  releaseClaimsOf,
  type StoredJob,
} from './jobs.sql.js';
import { type JobFailure, type JobQueue, type JobRegistration, retryDelay } from './queue.js';
import { describeJobError, runJob } from './run-job.js';

const QUEUE_NAME = 'jobs';
// Retries end when a job's retry window closes (run-job.ts), not after a count of attempts.
const UNLIMITED_ATTEMPTS = 1_000_000;
const BACKOFF_TYPE = 'capped';
const RELAY_BATCH = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
  /**
   * How long a relayed job may go without a look at Redis: then the reconciliation asks Redis about
   * it, and relays it again if Redis no longer holds it queued, running or waiting for a retry.
   */
  checkAfterMs: number;
  onFailure: (failure: JobFailure) => Promise<void>;
  counters: JobCounters;
  /** Key prefix in Redis: the deployment's namespace (redis-namespace.ts); tests give each file its own. */
  prefix: string;
}

/** The data a relayed job carries on BullMQ. */
interface QueuedData {
  /** Its row's uid: the worker runs it only if its database holds that row, to be run. */
  uid: string;
  createdAt: number;
  payload: unknown;
  /** The relay round that queued it: tells an add that Redis took from one it ignored. */
  round: string;
}

/** A job to queue, and the id to queue it under. */
interface Handover {
  job: StoredJob;
  queueId: string;
}

// What BullMQ reports of a job (getJobState), as the reconciliation keeps it.
const CHECKED: Record<string, CheckedState> = {
  waiting: 'waiting',
  prioritized: 'waiting',
  'waiting-children': 'waiting',
  active: 'active',
  delayed: 'delayed',
};

/**
 * The production queue: a relay moves committed rows of the jobs table to BullMQ on Redis (every
 * process relays: the one that wrote a job is woken at once, the others poll for what a crash or
 * an outage left behind), and `worker` processes run them from there.
 */
export function createBullmqQueue(options: BullmqQueueOptions): JobQueue {
  const { redis, db, logger, pollMs, sendTimeoutMs, closeTimeoutMs, checkAfterMs, onFailure, counters, prefix } =
    options;
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

  const add = (handovers: Handover[], round: string) =>
    queue.addBulk(
      handovers.map(({ job, queueId }) => ({
        name: job.kind,
        data: { uid: job.uid, createdAt: job.createdAt, payload: job.payload, round } satisfies QueuedData,
        opts: {
          jobId: queueId,
          attempts: UNLIMITED_ATTEMPTS,
          backoff: { type: BACKOFF_TYPE },
          removeOnComplete: { count: 1000 },
          removeOnFail: { count: 10_000 },
        },
      })),
    );

  /**
   * What Redis holds under each job's id after an add. BullMQ ignores, without a word, an add under
   * an id it already holds: that is ours if it is this job still to run (the same row relayed twice),
   * and not ours if it is another job, or a run of this one that its database never recorded (a
   * restored database): then ours goes under a fresh id.
   */
  const readBack = async (handovers: Handover[], round: string) => {
    const pipeline = redis.pipeline();
    for (const { queueId } of handovers) pipeline.hmget(queue.toKey(queueId), 'data', 'finishedOn');
    const replies = (await pipeline.exec()) ?? [];
    return handovers.map(({ job }, index) => {
      const [error, fields] = replies[index] ?? [new Error('no reply')];
      if (error) throw error;
      const [data, finishedOn] = fields as [string | null, string | null];
      if (data === null) return 'missing' as const;
      const held = JSON.parse(data) as Partial<QueuedData>;
      if (held.round === round || (held.uid === job.uid && finishedOn === null)) return 'taken' as const;
      return held.uid === job.uid ? ('finished' as const) : ('foreign' as const);
    });
  };

  /** Queues the jobs and answers the ones Redis took, each with the id it holds it under. */
  const handOver = async (jobs: StoredJob[]): Promise<Handover[]> => {
    const taken: Handover[] = [];
    let handovers = jobs.map((job) => ({ job, queueId: `job-${job.uid}` }));
    // A second pass for the jobs whose id was occupied: their fresh ids cannot be.
    for (let pass = 0; pass < 2 && handovers.length > 0; pass += 1) {
      const round = randomUUID();
      await add(handovers, round);
      const verdicts = await readBack(handovers, round);
      const again: Handover[] = [];
      for (const [index, handover] of handovers.entries()) {
        const verdict = verdicts[index];
        if (verdict === 'taken') taken.push(handover);
        if (verdict !== 'finished' && verdict !== 'foreign') continue;
        logger.warn(
          { jobId: handover.job.id, queueId: handover.queueId, held: verdict },
          verdict === 'finished'
            ? 'Redis holds a finished run of this job that its database never recorded (a restore?); queued it again under a fresh id'
            : "Redis holds another deployment's job under this job's id; queued it under a fresh id",
        );
        again.push({ job: handover.job, queueId: `job-${handover.job.uid}-${randomUUID()}` });
      }
      handovers = again;
    }
    return taken;
  };

  /**
   * What Redis answers about jobs this process claimed, within sendTimeoutMs; if it cannot answer,
   * the claims are handed back at once for the next round rather than left to lapse.
   */
  const onRedis = async <T>(claimed: Array<{ id: string }>, work: Promise<T>, what: string): Promise<T> => {
    try {
      return await withTimeout(work, sendTimeoutMs, what);
    } catch (error) {
      await releaseClaimsOf(
        db,
        relayId,
        claimed.map((job) => job.id),
      ).catch(() => {});
      throw error;
    }
  };

  const relaying = serialRounds(
    async () => {
      // Claimed for twice the time a send may take: long enough, and soon free if this dies.
      const jobs = await claimForRelay(db, relayId, RELAY_BATCH, 2 * sendTimeoutMs);
      if (jobs.length === 0) return false;
      const taken = await onRedis(jobs, handOver(jobs), 'queueing jobs on Redis');
      await markRelayed(
        db,
        relayId,
        taken.map(({ job, queueId }) => ({ id: job.id, queueId })),
      );
      // Jobs Redis did not take are handed back, never marked relayed.
      const left = jobs.filter((job) => !taken.some((handover) => handover.job === job));
      if (left.length > 0)
        await releaseClaimsOf(
          db,
          relayId,
          left.map((job) => job.id),
        );
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

  // Reconciliation: a relayed job that Redis lost (deleted, evicted, or finished without its
  // database recording it) would wait for ever; it is relayed again. At least once, never lost.
  const checking = serialRounds(
    async () => {
      const relayed = await claimRelayedForCheck(db, relayId, RELAY_BATCH, checkAfterMs, 2 * sendTimeoutMs);
      if (relayed.length === 0) return false;
      const states = await onRedis(
        relayed,
        Promise.all(relayed.map((job) => queue.getJobState(job.queueId))),
        'checking relayed jobs on Redis',
      );
      const checks = relayed.map((job, index) => {
        const reported = states[index] ?? 'unknown';
        return { ...job, reported, state: CHECKED[reported] ?? ('lost' as const) };
      });
      await recordChecks(db, relayId, checks);
      const lost = checks.filter((check) => check.state === 'lost');
      for (const { id, queueId, reported } of lost) {
        logger.warn({ jobId: id, queueId, reported }, 'a relayed job is no longer queued on Redis; relaying it again');
      }
      if (lost.length > 0) relay();
      return relayed.length === RELAY_BATCH;
    },
    {
      stopped: () => closed,
      settled: (error) => {
        // The relay says when Redis is away; this only adds detail for whoever looks.
        if (error) logger.debug({ reason: describeJobError(error) }, 'could not check relayed jobs on Redis');
      },
    },
  );

  const timers = [
    setInterval(relay, pollMs),
    setInterval(() => checking.kick(), Math.min(Math.max(checkAfterMs / 2, pollMs), 30_000)),
  ];
  relay();

  return {
    process(registrations, { concurrency }) {
      const byName = new Map<string, JobRegistration<unknown>>(registrations.map((r) => [r.type.name, r]));
      worker = new Worker<QueuedData>(
        QUEUE_NAME,
        async (job) => {
          const { uid, createdAt, payload } = job.data;
          const row = typeof uid === 'string' && UUID.test(uid) ? await findJobToRun(db, uid) : undefined;
          if (!row) {
            // Completed in BullMQ's eyes, which is all this process may do with it: its database
            // either ran it already or never had it.
            logger.warn(
              { queueId: job.id, job: job.name },
              'left alone a job that this database does not hold to run (done already, or not its own)',
            );
            return;
          }
          const { id } = row;
          const registration = byName.get(job.name);
          if (!registration) {
            await failJob(db, id, `no handler for ${job.name}`);
            throw new UnrecoverableError(`no handler for job ${job.name}`);
          }
          const claimed = { id, uid, kind: job.name, payload, createdAt, attempt: job.attemptsMade + 1 };
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
      for (const timer of timers) clearInterval(timer);
      await Promise.all([relaying.idle(), checking.idle()]);
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
