import { sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../src/infra/db/database.js';
import {
  LEASE_OUTCOME,
  type LeaseRequest,
  type LeaseResult,
  lockPool,
} from '../../src/modules/tokens/sql/lease-tokens.js';

interface LeaseParams extends Omit<LeaseRequest, 'evict' | 'waitSeconds' | 'metadata'> {
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
          from lease_one(${holderId}::uuid, ${ttlSeconds}::int, true, true, null, ${actorId}::uuid, ${context.ip}::text,
            ${context.userAgent}::text, ${context.requestId}::text, ${at}::timestamptz) l`,
    );
    if (!row) throw new Error('lease_one returned no row');
    return row;
  });
}
