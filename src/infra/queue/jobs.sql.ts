import { sql } from 'drizzle-orm';
import { type Db, type Executor, pgArray, queryRows } from '../db/database.js';
import type { JobType } from './queue.js';

/** A job as a runner sees it: its row's id, what it is, and when it was first written. */
export interface StoredJob {
  id: string;
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
        returning j.id::text as id, j.kind, j.payload, j.attempts as attempt,
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
        returning j.id::text as id, j.kind, j.payload, (extract(epoch from j.created_at) * 1000)::float8 as "createdAt"`,
  );
}

/**
 * markRelayed: the queue has them. If the process dies between the queue and this, the claim
 * lapses and they are relayed again, which the queue's job ids make harmless.
 */
export async function markRelayed(db: Db, relay: string, ids: string[]): Promise<void> {
  await db.execute(
    sql`update jobs set status = 'relayed', locked_by = null, locked_until = null
        where id = any(${pgArray(ids)}::bigint[]) and locked_by = ${relay}`,
  );
}

/** releaseRelayClaims: hands jobs the queue refused back at once, for the next try. */
export async function releaseRelayClaims(db: Db, relay: string, ids: string[]): Promise<void> {
  await db.execute(
    sql`update jobs set locked_by = null, locked_until = null
        where id = any(${pgArray(ids)}::bigint[]) and locked_by = ${relay} and status = 'pending'`,
  );
}
