import { sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../../infra/db/database.js';
import type { LeaseMetadata } from './lease-tokens.js';
import { WAITING_COUNT } from './lease-waiters.js';
import { isoText } from './timestamps.js';

export type TokenStatus = 'available' | 'active';

export interface TokenView {
  id: string;
  status: TokenStatus;
  userId: string | null;
  leasedAt: string | null;
  expiresAt: string | null;
  fence: number | null;
  metadata: LeaseMetadata | null;
}

// A token is active while the database clock is before its lease's end; nothing else decides.
const STATUS = sql.raw(`case when expires_at > statement_timestamp() then 'active' else 'available' end`);
const WHEN_ACTIVE = (column: string) => sql.raw(`case when expires_at > statement_timestamp() then ${column} end`);

// The lease's metadata is read only for an active token (CASE evaluates its branch lazily).
const TOKEN_VIEW = sql`id, ${STATUS} as status, ${WHEN_ACTIVE('holder_id')} as "userId",
  ${WHEN_ACTIVE(isoText('leased_at'))} as "leasedAt", ${WHEN_ACTIVE(isoText('expires_at'))} as "expiresAt",
  ${WHEN_ACTIVE('lease_id::float8')} as fence,
  ${WHEN_ACTIVE('(select l.metadata from token_leases l where l.id = tokens.lease_id)')} as metadata`;

export async function listTokens(executor: Executor, status?: TokenStatus): Promise<TokenView[]> {
  const filter =
    status === 'active'
      ? sql`where expires_at > statement_timestamp()`
      : status === 'available'
        ? sql`where expires_at is null or expires_at <= statement_timestamp()`
        : sql``;
  return queryRows<TokenView>(executor, sql`select ${TOKEN_VIEW} from tokens ${filter} order by id`);
}

export interface PoolCounts {
  total: number;
  active: number;
  available: number;
  /** Lease requests waiting in line, in every process. */
  waiting: number;
}

export async function countTokens(executor: Executor): Promise<PoolCounts> {
  const [row] = await queryRows<{ total: number; active: number; waiting: number }>(
    executor,
    sql`select count(*)::int as total, (count(*) filter (where expires_at > statement_timestamp()))::int as active,
          ${WAITING_COUNT} as waiting
        from tokens`,
  );
  const total = row?.total ?? 0;
  const active = row?.active ?? 0;
  return { total, active, available: total - active, waiting: row?.waiting ?? 0 };
}

export async function findToken(executor: Executor, id: string): Promise<TokenView | undefined> {
  const [row] = await queryRows<TokenView>(executor, sql`select ${TOKEN_VIEW} from tokens where id = ${id}::uuid`);
  return row;
}
