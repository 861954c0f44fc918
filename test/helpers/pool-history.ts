import { sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../src/infra/db/database.js';

/** Instants as whole microseconds since the epoch: the database's own resolution, exactly. */
export type Micros = number;

/** Reads an ISO-8601 UTC timestamp with up to six fractional digits, as the API writes them. */
export function micros(iso: string): Micros {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?Z$/.exec(iso);
  if (!match) throw new Error(`not an ISO-8601 UTC timestamp: ${iso}`);
  const seconds = Date.parse(`${match[1]}Z`);
  return seconds * 1000 + Number((match[2] ?? '').padEnd(6, '0'));
}

export type EndReason = 'expired' | 'released' | 'evicted' | 'cleared';

/** One row of `token_leases`, as the checker reasons about it. */
export interface LeaseRecord {
  id: number;
  tokenId: string;
  userId: string;
  leasedAt: Micros;
  expiresAt: Micros;
  endedAt: Micros | null;
  endReason: EndReason | null;
}

/** What the pool's history holds: its tokens, and every lease ever made on them. */
export interface PoolHistory {
  tokenIds: string[];
  leases: LeaseRecord[];
}

const asMicros = (column: string) => sql.raw(`(extract(epoch from ${column}) * 1000000)::bigint::text`);

export async function readPoolHistory(db: Db): Promise<PoolHistory> {
  const tokens = await queryRows<{ id: string }>(db, sql`select id from tokens order by id`);
  const rows = await queryRows<{
    id: string;
    tokenId: string;
    userId: string;
    leasedAt: string;
    expiresAt: string;
    endedAt: string | null;
    endReason: EndReason | null;
  }>(
    db,
    sql`select id::text, token_id as "tokenId", user_id as "userId", ${asMicros('leased_at')} as "leasedAt",
          ${asMicros('expires_at')} as "expiresAt", ${asMicros('ended_at')} as "endedAt", end_reason as "endReason"
        from token_leases order by id`,
  );
  return {
    tokenIds: tokens.map((t) => t.id),
    leases: rows.map((row) => ({
      ...row,
      id: Number(row.id),
      leasedAt: Number(row.leasedAt),
      expiresAt: Number(row.expiresAt),
      endedAt: row.endedAt === null ? null : Number(row.endedAt),
    })),
  };
}
