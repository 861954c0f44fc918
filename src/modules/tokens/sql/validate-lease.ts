import { sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../../infra/db/database.js';
import type { LeaseValidation } from '../tokens.schemas.js';
import { isoText } from './timestamps.js';

type EndReason = 'evicted' | 'expired' | 'released' | 'cleared';

/**
 * validateLease: whether `holderId` holds token `tokenId` under `fence` now, by the database clock;
 * undefined when no such token exists. Two primary-key reads, no lock, no write: the hot path of
 * every service a token guards. The lease is `superseded` when the same holder holds the token
 * again under a newer fence; otherwise an ended lease answers how it ended, and a lease past its
 * end that the sweep has not closed yet answers `expired`.
 */
export async function validateLease(
  executor: Executor,
  tokenId: string,
  holderId: string,
  fence: number,
): Promise<LeaseValidation | undefined> {
  const [row] = await queryRows<{
    found: boolean;
    endReason: EndReason | null;
    live: boolean;
    expiresAt: string;
    heldAgain: boolean;
  }>(
    executor,
    sql`select l.id is not null as found, l.end_reason as "endReason",
          (l.ended_at is null and l.expires_at > statement_timestamp()) as live,
          ${sql.raw(isoText('l.expires_at'))} as "expiresAt",
          (t.holder_id = ${holderId}::uuid and t.lease_id > ${fence} and t.expires_at > statement_timestamp()) as "heldAgain"
        from tokens t
        left join token_leases l on l.id = ${fence} and l.token_id = t.id and l.user_id = ${holderId}::uuid
        where t.id = ${tokenId}::uuid`,
  );
  if (!row) return undefined;
  if (!row.found) return { valid: false, reason: 'unknown' };
  if (row.live) return { valid: true, expiresAt: row.expiresAt };
  if (row.heldAgain) return { valid: false, reason: 'superseded' };
  return { valid: false, reason: row.endReason ?? 'expired' };
}
