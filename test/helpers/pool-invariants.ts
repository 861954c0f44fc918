import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { type Db, queryRows } from '../../src/infra/db/database.js';

export interface AnsweredLease {
  tokenId: string;
  userId: string;
  leasedAt: string;
  expiresAt: string;
  fence: number;
}

/**
 * The pool's invariants, read from the database itself: the token count never changes; no token
 * and no holder has two open leases; every active token is backed by its open lease; and every
 * lease a client was answered with is in the history.
 */
export async function expectPoolInvariants(db: Db, poolSize: number, answered: AnsweredLease[] = []): Promise<void> {
  const [counts] = await queryRows<{ tokens: number; tokenDupes: number; userDupes: number; unbacked: number }>(
    db,
    sql`select
      (select count(*)::int from tokens) as tokens,
      (select count(*)::int from (select token_id from token_leases where ended_at is null group by token_id having count(*) > 1) d) as "tokenDupes",
      (select count(*)::int from (select user_id from token_leases where ended_at is null group by user_id having count(*) > 1) d) as "userDupes",
      (select count(*)::int from tokens t where t.expires_at > clock_timestamp() and not exists (
         select 1 from token_leases l where l.id = t.lease_id and l.ended_at is null and l.user_id = t.holder_id)) as unbacked`,
  );
  expect(counts).toEqual({ tokens: poolSize, tokenDupes: 0, userDupes: 0, unbacked: 0 });

  if (answered.length > 0) {
    const [found] = await queryRows<{ missing: number }>(
      db,
      sql`select count(*)::int as missing from jsonb_to_recordset(${JSON.stringify(answered)}::jsonb)
            as a("tokenId" uuid, "userId" uuid, "leasedAt" timestamptz)
          where not exists (select 1 from token_leases l
            where l.token_id = a."tokenId" and l.user_id = a."userId" and l.leased_at = a."leasedAt")`,
    );
    expect(found?.missing).toBe(0);
  }
}

/** How many leases the history holds for these holders, ended or not: 0 for a request never served. */
export async function leasesOf(db: Db, holders: string[]): Promise<number> {
  const [row] = await queryRows<{ count: number }>(
    db,
    sql`select count(*)::int as count from token_leases where user_id = any(${`{${holders.join(',')}}`}::uuid[])`,
  );
  return row?.count ?? 0;
}
