import { sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../../infra/db/database.js';
import { iso } from './timestamps.js';

export interface LeaseEnd {
  tokenId: string;
  userId: string;
  endedAt: string;
}

/**
 * expireDueLeases: bookkeeping only. Closes leases whose time is up as `expired`, at their own end
 * instant, and logs each. SKIP LOCKED lets several workers sweep at once without waiting; the
 * token rows are left alone (a due token is available whatever they say), so a sweep never waits
 * for, or deadlocks with, a lease in progress.
 */
export async function expireDueLeases(executor: Executor, limit: number): Promise<LeaseEnd[]> {
  return queryRows<LeaseEnd>(
    executor,
    sql`with due as (
          select id from token_leases where ended_at is null and expires_at <= clock_timestamp()
          order by expires_at limit ${limit} for update skip locked
        ), closed as (
          update token_leases l set ended_at = l.expires_at, end_reason = 'expired'
          from due where l.id = due.id
          returning l.token_id, l.user_id, l.ended_at
        ), logged as (
          insert into audit_logs (action, user_id, target_type, target_id, metadata)
          select 'token.expired', null, 'token', token_id::text,
                 jsonb_build_object('userId', user_id, 'endedAt', ${iso('ended_at')})
          from closed
        )
        select token_id as "tokenId", user_id as "userId", ${iso('ended_at')} as "endedAt" from closed`,
  );
}
