import { sql } from 'drizzle-orm';
import { type Db, type Executor, pgArray, queryRows } from '../db/database.js';
import type { JobType } from './queue.js';

/** A job as a runner sees it: its row's id, what it is, and when it was first written. */
export interface StoredJob {
  id: string;
  /** Its name outside this database: unique for all time, where `id` is unique in one database's life. */
  uid: string;
  kind: string;
  payload: unknown;
  /** Milliseconds since the epoch: where the retry window starts. */
  createdAt: number;
}

export interface ClaimedJob extends StoredJob {
  /** 1 on the first run. */
  attempt: number;
}

/**
 * enqueueJob: writes a job in the caller's transaction (the transactional outbox), so the job
 * exists if and only if the change that asks for it was committed.
 */
export async function enqueueJob<Payload>(executor: Executor, type: JobType<Payload>, payload: Payload): Promise<void> {
  await executor.execute(
    sql`insert into jobs (kind, payload) values (${type.name}, ${JSON.stringify(payload)}::jsonb)`,
  );
}

/**
 * claimDueJobs: takes up to `limit` due jobs for `runner` until `leaseMs` from now, counting an
 * attempt. SKIP LOCKED lets runners in several processes claim side by side; a claim whose runner
 * died lapses, and the job is claimed again.
 */
export async function claimDueJobs(db: Db, runner: string, limit: number, leaseMs: number): Promise<ClaimedJob[]> {
  return queryRows<ClaimedJob>(
    db,
    sql`update jobs j set locked_by = ${runner}, attempts = j.attempts + 1,
          locked_until = clock_timestamp() + ${leaseMs} * interval '1 millisecond'
        from (select id from jobs
              where status = 'pending' and run_at <= clock_timestamp()
                and (locked_until is null or locked_until <= clock_timestamp())
              order by run_at, id limit ${limit} for update skip locked) due
        where j.id = due.id
        returning j.id::text as id, j.uid::text as uid, j.kind, j.payload, j.attempts as attempt,
          (extract(epoch from j.created_at) * 1000)::float8 as "createdAt"`,
  );
}

/** extendClaims: keeps the jobs a runner is still running from being claimed by another. */
export async function extendClaims(db: Db, runner: string, ids: string[], leaseMs: number): Promise<void> {
  if (ids.length === 0) return;
  await db.execute(
    sql`update jobs set locked_until = clock_timestamp() + ${leaseMs} * interval '1 millisecond'
        where id = any(${pgArray(ids)}::bigint[]) and locked_by = ${runner}`,
  );
}

/**
 * releaseClaims: frees every claim at once. Only for the embedded database, which one process
 * alone can open: a claim found at start was left by a process that died.
 */
export async function releaseClaims(db: Db): Promise<void> {
  await db.execute(sql`update jobs set locked_by = null, locked_until = null where status = 'pending'`);
}

/** completeJob: a job that ran to the end leaves no row. */
export async function completeJob(db: Db, id: string): Promise<void> {
  await db.execute(sql`delete from jobs where id = ${id}::bigint`);
}

/** retryJob: hands a claimed job back, to run again after `delayMs`. */
export async function retryJob(db: Db, id: string, runner: string, delayMs: number, error: string): Promise<void> {
  await db.execute(
    sql`update jobs set run_at = clock_timestamp() + ${delayMs} * interval '1 millisecond', last_error = ${error},
          locked_by = null, locked_until = null
        where id = ${id}::bigint and locked_by = ${runner}`,
  );
}

/** failJob: a job given up stays, as `failed`, with the reason. */
export async function failJob(db: Db, id: string, reason: string): Promise<void> {
  await db.execute(
    sql`update jobs set status = 'failed', finished_at = clock_timestamp(), last_error = ${reason},
          locked_by = null, locked_until = null
        where id = ${id}::bigint`,
  );
}

/**
 * claimForRelay: takes up to `limit` committed jobs for `relay` until `leaseMs` from now, in one
 * short statement: the claim keeps other processes' relays off them while this one talks to
 * Redis, with no transaction held open meanwhile. If the relay dies, the claim lapses.
 */
export async function claimForRelay(db: Db, relay: string, limit: number, leaseMs: number): Promise<StoredJob[]> {
  return queryRows<StoredJob>(
    db,
    sql`update jobs j set locked_by = ${relay}, locked_until = clock_timestamp() + ${leaseMs} * interval '1 millisecond'
        from (select id from jobs
              where status = 'pending' and (locked_until is null or locked_until <= clock_timestamp())
              order by id limit ${limit} for update skip locked) due
        where j.id = due.id
        returning j.id::text as id, j.uid::text as uid, j.kind, j.payload,
          (extract(epoch from j.created_at) * 1000)::float8 as "createdAt"`,
  );
}

/**
 * markRelayed: the queue holds them, each under its `queueId`. If the process dies between the
 * queue and this, the claim lapses and they are relayed again, which the relay finds already
 * queued. A job that ran (or failed) meanwhile has no claim left to match and stays as it is.
 */
export async function markRelayed(
  db: Db,
  relay: string,
  relayed: Array<{ id: string; queueId: string }>,
): Promise<void> {
  if (relayed.length === 0) return;
  await db.execute(
    sql`update jobs j set status = 'relayed', queue_id = r.queue_id, relayed_at = clock_timestamp(),
          checked_at = clock_timestamp(), check_state = 'waiting', locked_by = null, locked_until = null
        from unnest(${pgArray(relayed.map((job) => job.id))}::bigint[], ${pgArray(relayed.map((job) => job.queueId))}::text[])
          as r(id, queue_id)
        where j.id = r.id and j.locked_by = ${relay}`,
  );
}

/** releaseClaimsOf: hands back at once what `holder` claimed and could not finish, for the next try. */
export async function releaseClaimsOf(db: Db, holder: string, ids: string[]): Promise<void> {
  await db.execute(
    sql`update jobs set locked_by = null, locked_until = null
        where id = any(${pgArray(ids)}::bigint[]) and locked_by = ${holder}`,
  );
}

/**
 * findJobToRun: the row of the job that Redis handed a worker under `uid`, unless it is done: a
 * completed job leaves no row, a given-up one is `failed`, and a job of another database (or of
 * this one before a restore) has none here.
 */
export async function findJobToRun(db: Db, uid: string): Promise<{ id: string } | undefined> {
  const [row] = await queryRows<{ id: string }>(
    db,
    sql`select id::text as id from jobs where uid = ${uid}::uuid and status <> 'failed'`,
  );
  return row;
}

/** A relayed job as the reconciliation sees it. */
export interface RelayedJob {
  id: string;
  queueId: string;
}

/**
 * claimRelayedForCheck: takes up to `limit` relayed jobs that Redis has not been asked about for
 * `checkAfterMs`, for `checker` until `leaseMs` from now, so one process asks about each.
 */
export async function claimRelayedForCheck(
  db: Db,
  checker: string,
  limit: number,
  checkAfterMs: number,
  leaseMs: number,
): Promise<RelayedJob[]> {
  return queryRows<RelayedJob>(
    db,
    sql`update jobs j set locked_by = ${checker}, locked_until = clock_timestamp() + ${leaseMs} * interval '1 millisecond'
        from (select id from jobs
              where status = 'relayed' and checked_at <= clock_timestamp() - ${checkAfterMs} * interval '1 millisecond'
                and (locked_until is null or locked_until <= clock_timestamp())
              order by checked_at limit ${limit} for update skip locked) due
        where j.id = due.id
        returning j.id::text as id, j.queue_id as "queueId"`,
  );
}

/** What Redis said of a relayed job: still there (how), or no longer queued (`lost`). */
export type CheckedState = 'waiting' | 'active' | 'delayed' | 'lost';

/**
 * recordChecks: keeps what Redis said of each checked job; a `lost` one goes back to `pending`,
 * for the relay to queue again.
 */
export async function recordChecks(
  db: Db,
  checker: string,
  checks: Array<{ id: string; state: CheckedState }>,
): Promise<void> {
  if (checks.length === 0) return;
  await db.execute(
    sql`update jobs j set
          status = case when c.state = 'lost' then 'pending' else j.status end,
          check_state = case when c.state = 'lost' then null else c.state end,
          checked_at = clock_timestamp(), locked_by = null, locked_until = null
        from unnest(${pgArray(checks.map((check) => check.id))}::bigint[], ${pgArray(checks.map((check) => check.state))}::text[])
          as c(id, state)
        where j.id = c.id and j.locked_by = ${checker} and j.status = 'relayed'`,
  );
}

/**
 * countStuckJobs: jobs that should have started by now and have not. Pending ones due for
 * `afterMs` that no runner holds (no relay reaches Redis, or no runner is running), and relayed ones
 * handed to Redis `afterMs` ago that the last look found still waiting for a worker, or that no
 * process could look at for twice that long. A job running, or waiting for its next retry, is not stuck.
 */
export async function countStuckJobs(db: Db, afterMs: number): Promise<number> {
  const [row] = await queryRows<{ stuck: number }>(
    db,
    sql`select count(*)::int as stuck from jobs
        where (status = 'pending' and run_at <= now() - ${afterMs} * interval '1 millisecond'
               and (locked_until is null or locked_until <= now()))
           or (status = 'relayed' and relayed_at <= now() - ${afterMs} * interval '1 millisecond'
               and (check_state = 'waiting' or checked_at <= now() - ${2 * afterMs} * interval '1 millisecond'))`,
  );
  return row?.stuck ?? 0;
}
