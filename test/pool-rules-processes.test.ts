import { beforeAll, describe } from 'vitest';
import { useApiProcesses } from './helpers/api-processes.js';
import { testEnvironment } from './helpers/environment.js';
import { useHarness } from './helpers/harness.js';
import { httpDriver } from './helpers/pool-driver.js';
import { describePoolRules } from './helpers/pool-rules.js';
import type { PoolUnderTest } from './helpers/pool-scenarios.js';

// The pool's rules through two `api` processes on one PostgreSQL: the requests of one burst are
// spread over both, so they race in the database, not in one process's batcher.

/**
 * A pool for the enclosing `describe`, on that block's harness, served by two `api` processes
 * started after it and stopped before it closes; filled in before the block's first test.
 */
function usePoolUnderTest(poolSize: number, ttlSeconds: number): { pool: PoolUnderTest } {
  const block = useHarness({ TOKEN_POOL_SIZE: String(poolSize), TOKEN_TTL_SECONDS: String(ttlSeconds) });
  const running = useApiProcesses(block);
  const context = {} as { pool: PoolUnderTest };
  beforeAll(() => {
    const driver = httpDriver(
      running.apis.map((api) => api.url),
      running.adminToken,
    );
    context.pool = { driver, db: block.harness.runtime.database.db, poolSize, ttlSeconds };
  });
  return context;
}

describe.runIf(testEnvironment.databaseUrl)('the pool through two api processes', () => {
  describePoolRules(usePoolUnderTest, {
    burstsWithRoom: [90, 100, 100, 100],
    fullPoolBursts: 3,
    random: { seed: 20261122, numRuns: 8 },
  });
});
