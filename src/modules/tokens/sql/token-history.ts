import { sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../../infra/db/database.js';
import type { LeaseMetadata } from './lease-tokens.js';
import { iso } from './timestamps.js';

export interface HistoryEntry {
  userId: string;
  leasedAt: string;
  expiresAt: string;
  endedAt: string | null;
  endReason: 'expired' | 'released' | 'evicted' | 'cleared' | null;
  fence: number;
  metadata: LeaseMetadata | null;
}

/** A lease past its end is reported as expired even before the bookkeeping job closes it. */
export async function tokenHistory(executor: Executor, tokenId: string, limit: number, offset: number) {
  return queryRows<HistoryEntry>(
    executor,
    sql`select user_id as "userId", ${iso('leased_at')} as "leasedAt", ${iso('expires_at')} as "expiresAt",
          case when ended_at is not null then ${iso('ended_at')}
               when expires_at <= statement_timestamp() then ${iso('expires_at')} end as "endedAt",
          case when ended_at is not null then end_reason
               when expires_at <= statement_timestamp() then 'expired' end as "endReason",
          id::float8 as fence, metadata
        from token_leases where token_id = ${tokenId}::uuid
        order by leased_at desc, id desc limit ${limit} offset ${offset}`,
  );
}

export async function countTokenHistory(executor: Executor, tokenId: string): Promise<number> {
  const [row] = await queryRows<{ count: number }>(
    executor,
    sql`select count(*)::int as count from token_leases where token_id = ${tokenId}::uuid`,
  );
  return row?.count ?? 0;
}
