import { beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { useHarness } from '../../../test/helpers/harness.js';
import { injectDriver } from '../../../test/helpers/pool-driver.js';
import {
  burstOnFullPool,
  burstWithRoom,
  checkRandomBursts,
  type PoolUnderTest,
} from '../../../test/helpers/pool-scenarios.js';

// The pool's rules in one process (PostgreSQL or PGlite, whichever the suite runs on), through the
// routes and the batcher as the service runs them; test/pool-rules-processes.test.ts does the same
// through two `api` processes.

/** A pool for the enclosing `describe`, on that block's harness; filled in before its first test. */
function usePoolUnderTest(poolSize: number, ttlSeconds: number): { pool: PoolUnderTest } {
  const block = useHarness({ TOKEN_POOL_SIZE: String(poolSize), TOKEN_TTL_SECONDS: String(ttlSeconds) });
  const context = {} as { pool: PoolUnderTest };
  beforeAll(async () => {
    const admin = await signInAdmin(block.harness);
    const driver = injectDriver(block.harness.app, admin.accessToken);
    context.pool = { driver, db: block.harness.runtime.database.db, poolSize, ttlSeconds };
  });
  return context;
}

describe('a pool of 100 in one process', () => {
  const context = usePoolUnderTest(100, 120);

  it('never evicts in bursts of 90 and of 100 leases on an emptied pool', async () => {
    for (const count of [90, 100, 100]) await burstWithRoom(context.pool, count);
  });

  it('evicts exactly the 20 oldest holders when 20 leases arrive at once on a full pool', async () => {
    for (let round = 0; round < 2; round += 1) await burstOnFullPool(context.pool, 20);
  });
});

describe('random bursts on a small pool with a one-second lease, in one process', () => {
  const context = usePoolUnderTest(8, 1);

  it('keep every rule of the pool in every history', { timeout: 120_000 }, async () => {
    const seen = await checkRandomBursts(context.pool, { seed: 20261121, numRuns: 6, timeLimitMs: 60_000 });
    // Each way a lease can end was exercised, so the check was not vacuous.
    for (const count of Object.values(seen)) expect(count).toBeGreaterThan(0);
  });
});
