import { randomBytes, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testEnvironment } from '../../../test/helpers/environment.js';
import { useHarness } from '../../../test/helpers/harness.js';
import { waitFor } from '../../../test/helpers/processes.js';
import { type Db, queryRows } from '../db/database.js';
import { createMetricsRegistry } from '../metrics/metrics.js';
import { createBullmqQueue } from './bullmq-queue.js';
import { createDatabaseQueue } from './database-queue.js';
import { jobCounters } from './jobs.metrics.js';
import { countStuckJobs, enqueueJob } from './jobs.sql.js';
import {
  defineJob,
  type JobFailure,
  type JobQueue,
  type JobType,
  PermanentJobError,
  type RetryPolicy,
  registerJob,
} from './queue.js';

const logger = pino({ level: 'silent' });
const registry = createMetricsRegistry();
const counters = jobCounters(registry);
const countedRuns = async (kind: string, outcome: string) =>
  (await counters.runs.get()).values.find((v) => v.labels.kind === kind && v.labels.outcome === outcome)?.value ?? 0;
const FAST: RetryPolicy = { retryForMs: 60_000, backoffMs: 20, maxBackoffMs: 40 };

// Only its database: these tests build their own queues on it.
const file = useHarness({}, { workers: false });
let db: Db;
const redisPrefix = `tokenpool-test-${randomBytes(6).toString('hex')}`;
const redis = testEnvironment.redisUrl
  ? new Redis(testEnvironment.redisUrl, { maxRetriesPerRequest: null })
  : undefined;

beforeAll(async () => {
  db = file.harness.runtime.database.db;
  // The service's own relay would take these tests' jobs to its own queue.
  await file.harness.runtime.queue.close();
});
afterAll(async () => {
  if (redis) {
    const keys = await redis.keys(`${redisPrefix}:*`);
    if (keys.length > 0) await redis.unlink(...keys);
    await redis.quit();
  }
});

const jobRow = async (kind: string) =>
  (
    await queryRows<{ status: string; attempts: number; lastError: string | null }>(
      db,
      sql`select status, attempts, last_error as "lastError" from jobs where kind = ${kind}`,
    )
  )[0];

type QueueFactory = (onFailure: (failure: JobFailure) => Promise<void>) => JobQueue;

const runners: Array<[string, QueueFactory | undefined]> = [
  [
    'the database runner',
    (onFailure) => createDatabaseQueue({ db, logger, pollMs: 50, onFailure, counters, soleRunner: false }),
  ],
  [
    'BullMQ behind the relay',
    redis
      ? (onFailure) =>
          createBullmqQueue({
            redis,
            db,
            logger,
            pollMs: 50,
            sendTimeoutMs: 2000,
            closeTimeoutMs: 5000,
            checkAfterMs: 60_000,
            onFailure,
            counters,
            prefix: redisPrefix,
          })
      : undefined,
  ],
];

describe.each(runners)('%s', (_name, factory) => {
  const kinds = (label: string) => `${label}-${randomBytes(4).toString('hex')}`;

  it.runIf(factory)(
    'retries a transient failure with growing delays, gives a permanent one up at once, and records it',
    async () => {
      const failures: JobFailure[] = [];
      const queue = (factory as QueueFactory)(async (failure) => {
        failures.push(failure);
      });
      const flaky = defineJob<{ n: number }>(kinds('flaky'));
      const doomed = defineJob<{ n: number }>(kinds('doomed'));
      const runs: Record<'flaky' | 'doomed', Array<{ attempt: number; at: number }>> = { flaky: [], doomed: [] };
      queue.process(
        [
          registerJob(
            flaky,
            async (_payload, { attempt }) => {
              runs.flaky.push({ attempt, at: Date.now() });
              if (attempt < 3) throw new Error('transient');
            },
            { retry: FAST },
          ),
          registerJob(
            doomed,
            async (_payload, { attempt }) => {
              runs.doomed.push({ attempt, at: Date.now() });
              throw new PermanentJobError('cannot succeed');
            },
            { retry: FAST },
          ),
        ],
        { concurrency: 2 },
      );
      await db.transaction(async (tx) => {
        await enqueueJob(tx, flaky, { n: 1 });
        await enqueueJob(tx, doomed, { n: 2 });
      });
      queue.wake();
      await waitFor(
        async () => runs.flaky.length === 3 && (await jobRow(flaky.name)) === undefined,
        10_000,
        () => `flaky ran ${runs.flaky.length} times`,
      );
      await waitFor(
        async () => (await jobRow(doomed.name))?.status === 'failed',
        5000,
        () => 'doomed not failed',
      );
      await queue.close();
      expect(runs.flaky.map((run) => run.attempt)).toEqual([1, 2, 3]);
      expect(runs.doomed.map((run) => run.attempt)).toEqual([1]);
      expect(failures).toEqual([
        { kind: doomed.name, jobId: expect.any(String), attempts: 1, reason: 'PermanentJobError: cannot succeed' },
      ]);
      expect(await jobRow(doomed.name)).toMatchObject({
        status: 'failed',
        lastError: 'PermanentJobError: cannot succeed',
      });
      const counted = [await countedRuns(flaky.name, 'retried'), await countedRuns(flaky.name, 'done')];
      expect([...counted, await countedRuns(doomed.name, 'given_up')]).toEqual([2, 1, 1]);
    },
  );

  it.runIf(factory)(
    'gives a job up when its retry window closes, after its registration ends what it began',
    async () => {
      const failures: JobFailure[] = [];
      const givenUp: string[] = [];
      const queue = (factory as QueueFactory)(async (failure) => {
        failures.push(failure);
      });
      const stubborn = defineJob<{ name: string }>(kinds('stubborn'));
      let runs = 0;
      queue.process(
        [
          registerJob(
            stubborn,
            async () => {
              runs += 1;
              throw new Error('still down');
            },
            {
              retry: { retryForMs: 300, backoffMs: 20, maxBackoffMs: 50 },
              giveUp: async ({ name }, reason) => {
                givenUp.push(`${name}: ${reason}`);
              },
            },
          ),
        ],
        { concurrency: 1 },
      );
      await db.transaction((tx) => enqueueJob(tx, stubborn, { name: 'x' }));
      queue.wake();
      await waitFor(
        async () => (await jobRow(stubborn.name))?.status === 'failed',
        10_000,
        () => 'not given up',
      );
      await queue.close();
      expect(runs).toBeGreaterThan(2);
      expect(givenUp).toEqual(['x: Error: still down']);
      expect(failures).toEqual([
        { kind: stubborn.name, jobId: expect.any(String), attempts: runs, reason: 'Error: still down' },
      ]);
    },
  );

  it.runIf(factory)('runs a job committed with no wake-up, as a crash right after the commit leaves it', async () => {
    const queue = (factory as QueueFactory)(async () => {});
    const orphan = defineJob<{ n: number }>(kinds('orphan'));
    const seen: number[] = [];
    queue.process(
      [
        registerJob(
          orphan,
          async ({ n }) => {
            seen.push(n);
          },
          { retry: FAST },
        ),
      ],
      { concurrency: 1 },
    );
    await db.transaction((tx) => enqueueJob(tx, orphan, { n: 7 }));
    await waitFor(
      () => seen.length > 0,
      5000,
      () => 'the poll did not find the job',
    );
    await queue.close();
    expect(seen).toEqual([7]);
  });
});

describe('the database runner after a crash', () => {
  it('runs a job whose claim was left by a dead runner: at once when it is the only runner, else once the claim lapses', async () => {
    const stranded = defineJob<{ n: number }>(`stranded-${randomBytes(4).toString('hex')}`);
    const seen: string[] = [];
    const strand = (n: number, lapse: string) =>
      db.execute(
        sql`insert into jobs (kind, payload, locked_by, locked_until, attempts)
            values (${stranded.name}, ${JSON.stringify({ n })}::jsonb, 'dead', clock_timestamp() + ${lapse}::interval, 1)`,
      );
    const run = async (soleRunner: boolean) => {
      const queue = createDatabaseQueue({ db, logger, pollMs: 50, onFailure: async () => {}, counters, soleRunner });
      queue.process(
        [
          registerJob(
            stranded,
            async ({ n }, { attempt }) => {
              seen.push(`${n}@${attempt}`);
            },
            { retry: FAST },
          ),
        ],
        { concurrency: 1 },
      );
      return queue;
    };
    const ranJobs = (count: number, failure: string) =>
      waitFor(
        () => seen.length === count,
        5000,
        () => failure,
      );
    await strand(1, '1 hour');
    const sole = await run(true);
    await ranJobs(1, 'the sole runner did not release the claim');
    await sole.close();

    await strand(2, '300 milliseconds');
    const shared = await run(false);
    await ranJobs(2, 'the claim never lapsed');
    await shared.close();
    expect(seen).toEqual(['1@2', '2@2']);
  });
});

describe.runIf(redis)('BullMQ job identity', () => {
  const kind = (label: string) => `${label}-${randomBytes(4).toString('hex')}`;
  const warnings: Array<{ msg: string }> = [];
  const warnLogger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line)) });
  // One test's workers would take the next one's jobs, and fail them for want of a handler.
  const openQueues: JobQueue[] = [];
  afterEach(async () => {
    for (const queue of openQueues.splice(0)) await queue.close();
  });

  function bullmq(checkAfterMs = 60_000): JobQueue {
    const queue = createBullmqQueue({
      redis: redis as Redis,
      db,
      logger: warnLogger,
      pollMs: 50,
      sendTimeoutMs: 2000,
      closeTimeoutMs: 5000,
      checkAfterMs,
      onFailure: async () => {},
      counters,
      prefix: redisPrefix,
    });
    openQueues.push(queue);
    return queue;
  }

  /** A handler that counts its runs. */
  function counting(type: JobType<{ n: number }>) {
    const runs: number[] = [];
    return { runs, registration: registerJob(type, async ({ n }) => void runs.push(n), { retry: FAST }) };
  }

  const row = async (name: string) =>
    (
      await queryRows<{ id: string; uid: string; status: string; queueId: string | null }>(
        db,
        sql`select id::text as id, uid::text as uid, status, queue_id as "queueId" from jobs where kind = ${name}`,
      )
    )[0];

  it('runs a job again when Redis holds a finished run of it that its database never recorded, as after a restore', async () => {
    const type = defineJob<{ n: number }>(kind('restored'));
    const { runs, registration } = counting(type);
    const queue = bullmq();
    queue.process([registration], { concurrency: 1 });
    await db.transaction((tx) => enqueueJob(tx, type, { n: 1 }));
    const before = await row(type.name);
    queue.wake();
    await waitFor(
      async () => runs.length === 1 && (await row(type.name)) === undefined,
      10_000,
      () => 'the job did not run',
    );
    // A dump taken before the run comes back: the same row, id and uid, still to run.
    await db.execute(
      sql`insert into jobs (id, uid, kind, payload) overriding system value
          values (${before?.id}::bigint, ${before?.uid}::uuid, ${type.name}, '{"n":2}'::jsonb)`,
    );
    queue.wake();
    await waitFor(
      () => runs.length === 2,
      10_000,
      () => 'the restored job never ran again',
    );
    expect(runs).toEqual([1, 2]);
    expect(warnings.map((line) => line.msg)).toContainEqual(expect.stringContaining('Redis holds a finished run'));
  });

  it("leaves alone a job on Redis that its database does not hold, as another database's would be", async () => {
    const type = defineJob<{ n: number }>(kind('stranger'));
    const { runs, registration } = counting(type);
    bullmq().process([registration], { concurrency: 1 });
    const foreign = new Queue('jobs', { connection: redis as Redis, prefix: redisPrefix });
    const added = await foreign.add(type.name, { uid: randomUUID(), createdAt: Date.now(), payload: { n: 1 } });
    await waitFor(
      async () => (await foreign.getJobState(added.id as string)) === 'completed',
      10_000,
      () => 'the worker did not take the job',
    );
    await foreign.close();
    expect(runs).toEqual([]);
    expect(warnings.map((line) => line.msg)).toContainEqual(expect.stringContaining('left alone a job'));
  });

  it('relays again a relayed job whose BullMQ job was deleted, and counts it stuck while it waits for a worker', async () => {
    const type = defineJob<{ n: number }>(kind('deleted'));
    const { runs, registration } = counting(type);
    const queue = bullmq(300);
    await db.transaction((tx) => enqueueJob(tx, type, { n: 1 }));
    queue.wake();
    await waitFor(
      async () => (await row(type.name))?.status === 'relayed',
      10_000,
      () => 'not relayed',
    );
    const relayed = (await row(type.name)) as { queueId: string };
    const byHand = new Queue('jobs', { connection: redis as Redis, prefix: redisPrefix });
    await byHand.remove(relayed.queueId);
    await waitFor(
      async () => (await byHand.getJobState(relayed.queueId)) === 'waiting',
      10_000,
      () => 'reconciliation did not relay the job again',
    );
    // No worker takes it: once it has waited longer than the bound, it is stuck.
    await waitFor(
      async () => (await countStuckJobs(db, 300)) > 0,
      5000,
      () => 'a job waiting for a worker was never counted stuck',
    );
    queue.process([registration], { concurrency: 1 });
    await waitFor(
      async () => runs.length === 1 && (await row(type.name)) === undefined,
      10_000,
      () => 'the job did not run',
    );
    await byHand.close();
    expect(await countStuckJobs(db, 300)).toBe(0);
    expect(warnings.map((line) => line.msg)).toContainEqual(expect.stringContaining('no longer queued on Redis'));
  });
});
