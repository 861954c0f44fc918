import { sql } from 'drizzle-orm';
import { ConfigError } from '../../../config.js';
import { type Db, queryRows } from '../../../infra/db/database.js';

/** A configuration the pool cannot take: it stops the process like any bad setting. */
class PoolSizeMismatchError extends ConfigError {
  override name = 'PoolSizeMismatchError';
}

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
