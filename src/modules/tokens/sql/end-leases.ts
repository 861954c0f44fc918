import { sql } from 'drizzle-orm';
import { type Executor, pgArray, queryRows } from '../../../infra/db/database.js';
import { iso } from './timestamps.js';
import type { HistoryEntry } from './token-history.js';

/** Locks one token for a release; `active` is judged by the database clock at the lock. */
export async function lockToken(executor: Executor, id: string) {
  const [row] = await queryRows<{ leaseId: string | null; holderId: string | null; active: boolean }>(
    executor,
    sql`select lease_id::text as "leaseId", holder_id as "holderId", coalesce(expires_at > clock_timestamp(), false) as active
        from tokens where id = ${id}::uuid for update`,
  );
  return row;
}

export type EndedLease = HistoryEntry & { tokenId: string };

/**
 * Ends open, unexpired leases. The expiry condition is checked again here, at the write: a release
 * or clear racing a lease's end either lands before it or finds nothing to end.
 */
export async function endActiveLeases(
  executor: Executor,
  leaseIds: string[],
  reason: 'released' | 'cleared',
): Promise<EndedLease[]> {
  if (leaseIds.length === 0) return [];
  return queryRows<EndedLease>(
    executor,
    sql`update token_leases set ended_at = clock_timestamp(), end_reason = ${reason}
        where id = any(${pgArray(leaseIds)}::bigint[]) and ended_at is null and expires_at > clock_timestamp()
        returning token_id as "tokenId", user_id as "userId", ${iso('leased_at')} as "leasedAt",
          ${iso('expires_at')} as "expiresAt", ${iso('ended_at')} as "endedAt", end_reason as "endReason",
          id::float8 as fence, metadata`,
  );
}

/** Marks tokens free again once their lease ended by release or clear. */
export async function freeTokens(executor: Executor, tokenIds: string[]): Promise<void> {
  if (tokenIds.length === 0) return;
  await executor.execute(
    sql`update tokens set holder_id = null, leased_at = null, expires_at = null, lease_id = null
        where id = any(${pgArray(tokenIds)}::uuid[])`,
  );
}

/**
 * Locks every token whose lease is active, in id order (the same order for every clear, so two
 * clears cannot deadlock). Tokens being leased at this instant are waited for, then judged again.
 */
export async function lockActiveTokens(executor: Executor): Promise<Array<{ id: string; leaseId: string }>> {
  return queryRows(
    executor,
    sql`select id, lease_id::text as "leaseId" from tokens
        where expires_at > clock_timestamp() order by id for update`,
  );
}
