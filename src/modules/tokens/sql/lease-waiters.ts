import { sql } from 'drizzle-orm';
import { type Executor, pgArray, queryRows, type Tx } from '../../../infra/db/database.js';
import { LEASE_OUTCOME, type LeaseResult } from './lease-tokens.js';

/** A waiter still in line after a claim: served (`lease`), or still waiting (`lease` null). */
export interface WaiterClaim {
  waiterId: number;
  lease: LeaseResult | null;
  /** Milliseconds until the first held lease ends (a token may come free then); null: none is held. */
  nextEndMs: number | null;
}

/**
 * claimWaitingLeases: serves this process's waiters whose turn it is and keeps the others' places
 * (see claim_waiting_leases in migrations/0010). A waiter that lost its place is not in the answer.
 */
export async function claimWaitingLeases(tx: Tx, waiterIds: number[], ttlSeconds: number): Promise<WaiterClaim[]> {
  // The outcome has a "waiterId" of its own (null here): the claim's waiter is named apart.
  const rows = await queryRows<LeaseResult & { waiter: number; nextEndMs: number | null; served: boolean }>(
    tx,
    sql`select c.waiter_id::float8 as waiter, c.next_end_ms as "nextEndMs", (c.lease).token_id is not null as served,
          ${sql.raw(LEASE_OUTCOME('c.lease'))}
        from claim_waiting_leases(${pgArray(waiterIds.map(String))}::bigint[], ${ttlSeconds}::int) c`,
  );
  return rows.map(({ waiter, nextEndMs, served, ...lease }) => ({
    waiterId: waiter,
    nextEndMs,
    lease: served ? lease : null,
  }));
}

/** Takes waiters out of the line: they gave up, or their client went away. */
export async function forgetWaiters(executor: Executor, waiterIds: number[]): Promise<void> {
  await executor.execute(sql`delete from lease_waiters where id = any(${pgArray(waiterIds.map(String))}::bigint[])`);
}

/** Seconds until the first held lease ends, at least 1: the Retry-After of a waiter that gave up. */
export async function firstLeaseEndSeconds(executor: Executor): Promise<number> {
  const [row] = await queryRows<{ seconds: number }>(
    executor,
    sql`select first_lease_end_seconds(clock_timestamp()) as seconds`,
  );
  return row?.seconds ?? 1;
}

/** The requests waiting in line now, in every process: an expression, for reads that want it too. */
export const WAITING_COUNT = sql`(select count(*)::int from lease_waiters where alive_until > clock_timestamp())`;

export async function countWaiters(executor: Executor): Promise<number> {
  const [row] = await queryRows<{ waiting: number }>(executor, sql`select ${WAITING_COUNT} as waiting`);
  return row?.waiting ?? 0;
}
