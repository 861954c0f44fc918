import { sql } from 'drizzle-orm';
import type { Database, Executor, Statement } from '../../../infra/db/database.js';
import type { AuditOrigin } from '../../audit/audit-origin.js';
import type { LeaseEnd } from './expire-due-leases.js';
import { isoText } from './timestamps.js';

export interface LeaseResult {
  tokenId: string;
  userId: string;
  leasedAt: string;
  expiresAt: string;
  created: boolean;
  evictedUserId: string | null;
  /** The lease's fence: greater than that of every lease granted before it. */
  fence: number;
  metadata: LeaseMetadata | null;
  /** Leases found over and closed on the way: the holder's previous one, the token's previous one. */
  expired: LeaseEnd[];
}

export type LeaseMetadata = Record<string, unknown>;

/** One lease asked for: for whom, by whom, from which request, and what to do if the pool is full. */
export interface LeaseRequest {
  holderId: string;
  actorId: string | null;
  context: AuditOrigin;
  /** Take the oldest lease when the pool is full (the default); else answer with `retryAfter`. */
  evict: boolean;
  /** Set: when no token is free, take a place in line (see lease-waiters.ts) rather than evict or fail. */
  waitSeconds: number | null;
  metadata: LeaseMetadata | null;
}

/**
 * No token for this request. `waiterId` set: it waits in line under that id (see migrations/0010).
 * Else `retryAfter` null: the pool, held in SHARE mode, had none free or had waiters; the request
 * goes again in EXCLUSIVE mode, where it may evict (see lock_pool in migrations/0006). Else the pool
 * is full for it, and the first lease ends in that many seconds.
 */
export interface LeaseRefusal {
  tokenId: null;
  retryAfter: number | null;
  waiterId: number | null;
}

export type LeaseAnswer = LeaseResult | LeaseRefusal;

export const LEASE_OUTCOME = (record: string) =>
  `(${record}).token_id as "tokenId", (${record}).holder_id as "userId",
   ${isoText(`(${record}).leased_at`)} as "leasedAt", ${isoText(`(${record}).expires_at`)} as "expiresAt",
   (${record}).created as created, (${record}).evicted_user_id as "evictedUserId", (${record}).expired as expired,
   (${record}).fence::float8 as fence, (${record}).metadata as metadata, (${record}).retry_after as "retryAfter",
   (${record}).waiter_id::float8 as "waiterId"`;

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

/**
 * The same, committed without waiting for the disk (`synchronous_commit` off, for this transaction
 * only), so the pool lock it releases at commit is not held through the flush: nothing read from
 * it may be answered before `flushWal` has run since. PostgreSQL only: PGlite has one connection,
 * so nobody waits for its lock, and a lease it committed so was lost to a SIGKILL despite the flush.
 */
const LEASE_TOKENS_UNFLUSHED: Statement = {
  name: 'lease_tokens_unflushed',
  text: `select ord, ${LEASE_OUTCOME('lease')}
    from set_config('synchronous_commit', 'off', true), lease_tokens($1::jsonb, $2::int, $3::boolean)`,
};

/** Whether leaseTokens commits without waiting for the disk, so that answers must wait for flushWal. */
export function leasesCommitUnflushed(database: Database): boolean {
  return database.kind === 'postgres';
}

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
    evict: item.evict,
    waitSeconds: item.waitSeconds,
    metadata: item.metadata,
  }));
  const statement = leasesCommitUnflushed(database) ? LEASE_TOKENS_UNFLUSHED : LEASE_TOKENS;
  const rows = await database.query<LeaseAnswer & { ord: number }>(statement, [
    JSON.stringify(payload),
    ttlSeconds,
    exclusive,
  ]);
  const results: LeaseAnswer[] = new Array(items.length);
  for (const { ord, ...result } of rows) results[(order[ord - 1] as { index: number }).index] = result;
  return results;
}

/**
 * A transaction that takes an id commits by flushing the write-ahead log up to its commit, which
 * puts every earlier commit on disk with it, also those that did not wait.
 */
const FLUSH_WAL: Statement = { name: 'flush_wal', text: 'select txid_current()' };

export async function flushWal(database: Database): Promise<void> {
  await database.query(FLUSH_WAL, []);
}
