import { sql } from 'drizzle-orm';
import { type Database, type Db, type Executor, pgArray, queryRows, type Statement } from '../../infra/db/database.js';
import type { RequestContext } from '../../infra/http/request-context.js';

export type TokenStatus = 'available' | 'active';

export interface TokenView {
  id: string;
  status: TokenStatus;
  userId: string | null;
  leasedAt: string | null;
  expiresAt: string | null;
}

export interface LeaseEnd {
  tokenId: string;
  userId: string;
  endedAt: string;
}

export interface LeaseResult {
  tokenId: string;
  userId: string;
  leasedAt: string;
  expiresAt: string;
  created: boolean;
  evictedUserId: string | null;
  /** Leases found over and closed on the way: the holder's previous one, the token's previous one. */
  expired: LeaseEnd[];
}

export class PoolSizeMismatchError extends Error {
  override name = 'PoolSizeMismatchError';
}

// Timestamps leave the database as ISO-8601 UTC text with their microseconds, which JavaScript
// dates would drop.
const isoText = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const iso = (column: string) => sql.raw(isoText(column));

// Any constant: the same in every process that may create the pool.
const POOL_LOCK_ID = 7_405_122_912;

/**
 * Makes the pool on the first start; afterwards only checks it. Refuses a TOKEN_POOL_SIZE that
 * differs from the pool already made, since tokens are never created or deleted after that.
 */
export async function ensureTokenPool(db: Db, size: number): Promise<'created' | 'exists'> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${POOL_LOCK_ID})`);
    const [row] = await queryRows<{ count: number }>(tx, sql`select count(*)::int as count from tokens`);
    const count = row?.count ?? 0;
    if (count === size) return 'exists';
    if (count > 0) {
      throw new PoolSizeMismatchError(
        `TOKEN_POOL_SIZE is ${size} but the pool was made with ${count} tokens; a pool is never resized (set TOKEN_POOL_SIZE=${count})`,
      );
    }
    // The guard trigger lets inserts through only in the transaction that sets this.
    await tx.execute(sql`select set_config('tokenpool.creating_pool', 'on', true)`);
    await tx.execute(sql`insert into tokens (id) select gen_random_uuid() from generate_series(1, ${size})`);
    return 'created';
  });
}

/** One lease asked for: for whom, by whom, from which request. */
export interface LeaseRequest {
  holderId: string;
  actorId: string | null;
  context: RequestContext;
}

/**
 * A request the pool, held in SHARE mode, had no token for: it goes again in EXCLUSIVE mode, where
 * it may evict (see lock_pool in migrations/0006).
 */
export type LeaseAnswer = LeaseResult | { tokenId: null };

const LEASE_OUTCOME = (record: string) =>
  `(${record}).token_id as "tokenId", (${record}).holder_id as "userId",
   ${isoText(`(${record}).leased_at`)} as "leasedAt", ${isoText(`(${record}).expires_at`)} as "expiresAt",
   (${record}).created as created, (${record}).evicted_user_id as "evictedUserId", (${record}).expired as expired`;

interface LeaseParams extends LeaseRequest {
  ttlSeconds: number;
  /** The instant to lease at; only tests set it, to probe the expiry boundary exactly. */
  at: string;
}

/**
 * leaseOne at a given instant, holding the pool EXCLUSIVE as an eviction would. Tests use it to
 * reason about the expiry boundary to the microsecond; the service leases through leaseTokens.
 */
export async function leaseTokenAt(db: Db, params: LeaseParams): Promise<LeaseResult> {
  const { holderId, ttlSeconds, actorId, context, at } = params;
  return db.transaction(async (tx) => {
    await lockPool(tx, true);
    const [row] = await queryRows<LeaseResult>(
      tx,
      sql`select ${sql.raw(LEASE_OUTCOME('l'))}
          from lease_one(${holderId}::uuid, ${ttlSeconds}::int, true, ${actorId}::uuid, ${context.ip}::text,
            ${context.userAgent}::text, ${context.requestId}::text, ${at}::timestamptz) l`,
    );
    if (!row) throw new Error('lease_one returned no row');
    return row;
  });
}

/** Takes the pool lock for a change of who holds a token; see lock_pool in migrations/0006. */
export async function lockPool(executor: Executor, exclusive: boolean): Promise<void> {
  await executor.execute(sql`select lock_pool(${exclusive})`);
}

/**
 * leaseTokens: several leases in one call and one transaction (see migrations/0006). Sorted by
 * holder so that concurrent batches take holder locks in one order; answers in the given order.
 */
const LEASE_TOKENS: Statement = {
  name: 'lease_tokens',
  text: `select ord, ${LEASE_OUTCOME('lease')} from lease_tokens($1::jsonb, $2::int, $3::boolean)`,
};

export async function leaseTokens(
  database: Database,
  ttlSeconds: number,
  items: LeaseRequest[],
  exclusive: boolean,
): Promise<LeaseAnswer[]> {
  const order = items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => (a.item.holderId < b.item.holderId ? -1 : 1));
  const payload = order.map(({ item }) => ({
    holder: item.holderId,
    actor: item.actorId,
    ip: item.context.ip,
    userAgent: item.context.userAgent,
    requestId: item.context.requestId,
  }));
  const rows = await database.query<LeaseAnswer & { ord: number }>(LEASE_TOKENS, [
    JSON.stringify(payload),
    ttlSeconds,
    exclusive,
  ]);
  const results: LeaseAnswer[] = new Array(items.length);
  for (const { ord, ...result } of rows) results[(order[ord - 1] as { index: number }).index] = result;
  return results;
}

// A token is active while the database clock is before its lease's end; nothing else decides.
const STATUS = sql.raw(`case when expires_at > statement_timestamp() then 'active' else 'available' end`);
const WHEN_ACTIVE = (column: string) => sql.raw(`case when expires_at > statement_timestamp() then ${column} end`);

const TOKEN_VIEW = sql`id, ${STATUS} as status, ${WHEN_ACTIVE('holder_id')} as "userId",
  ${WHEN_ACTIVE(isoText('leased_at'))} as "leasedAt", ${WHEN_ACTIVE(isoText('expires_at'))} as "expiresAt"`;

export async function listTokens(executor: Executor, status?: TokenStatus): Promise<TokenView[]> {
  const filter =
    status === 'active'
      ? sql`where expires_at > statement_timestamp()`
      : status === 'available'
        ? sql`where expires_at is null or expires_at <= statement_timestamp()`
        : sql``;
  return queryRows<TokenView>(executor, sql`select ${TOKEN_VIEW} from tokens ${filter} order by id`);
}

export async function countTokens(executor: Executor): Promise<{ total: number; active: number; available: number }> {
  const [row] = await queryRows<{ total: number; active: number }>(
    executor,
    sql`select count(*)::int as total, (count(*) filter (where expires_at > statement_timestamp()))::int as active from tokens`,
  );
  const total = row?.total ?? 0;
  const active = row?.active ?? 0;
  return { total, active, available: total - active };
}

export async function findToken(executor: Executor, id: string): Promise<TokenView | undefined> {
  const [row] = await queryRows<TokenView>(executor, sql`select ${TOKEN_VIEW} from tokens where id = ${id}::uuid`);
  return row;
}

export interface HistoryEntry {
  userId: string;
  leasedAt: string;
  expiresAt: string;
  endedAt: string | null;
  endReason: 'expired' | 'released' | 'evicted' | 'cleared' | null;
}

/** A lease past its end is reported as expired even before the bookkeeping job closes it. */
export async function tokenHistory(executor: Executor, tokenId: string, limit: number, offset: number) {
  return queryRows<HistoryEntry>(
    executor,
    sql`select user_id as "userId", ${iso('leased_at')} as "leasedAt", ${iso('expires_at')} as "expiresAt",
          case when ended_at is not null then ${iso('ended_at')}
               when expires_at <= statement_timestamp() then ${iso('expires_at')} end as "endedAt",
          case when ended_at is not null then end_reason
               when expires_at <= statement_timestamp() then 'expired' end as "endReason"
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
          ${iso('expires_at')} as "expiresAt", ${iso('ended_at')} as "endedAt", end_reason as "endReason"`,
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
