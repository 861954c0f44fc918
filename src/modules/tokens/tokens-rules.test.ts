import { beforeAll, describe } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { useHarness } from '../../../test/helpers/harness.js';
import { injectDriver } from '../../../test/helpers/pool-driver.js';
import { describePoolRules } from '../../../test/helpers/pool-rules.js';
import type { PoolUnderTest } from '../../../test/helpers/pool-scenarios.js';

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

describe('the pool in one process', () => {
  describePoolRules(usePoolUnderTest, {
    burstsWithRoom: [90, 100, 100],
    fullPoolBursts: 2,
    random: { seed: 20261121, numRuns: 6 },
  });
});
