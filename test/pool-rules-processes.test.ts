import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from './helpers/admin.js';
import { testEnvironment } from './helpers/environment.js';
import { useHarness } from './helpers/harness.js';
import { httpDriver } from './helpers/pool-driver.js';
import { burstOnFullPool, burstWithRoom, checkRandomBursts, type PoolUnderTest } from './helpers/pool-scenarios.js';
import { type ServiceProcess, startProcess } from './helpers/processes.js';

// The pool's rules through two `api` processes on one PostgreSQL: the requests of one burst are
// spread over both, so they race in the database, not in one process's batcher.

/**
 * A pool for the enclosing `describe`, on that block's harness, served by two `api` processes
 * started after it and stopped before it closes; filled in before the block's first test.
 */
function usePoolUnderTest(poolSize: number, ttlSeconds: number): { pool: PoolUnderTest } {
  const block = useHarness({ TOKEN_POOL_SIZE: String(poolSize), TOKEN_TTL_SECONDS: String(ttlSeconds) });
  const context = {} as { pool: PoolUnderTest };
  let apis: ServiceProcess[] = [];
  beforeAll(async () => {
    const admin = await signInAdmin(block.harness);
    const env = { ...block.harness.env, LOG_LEVEL: 'warn' };
    apis = await Promise.all([startProcess('api', env), startProcess('api', env)]);
    const driver = httpDriver(
      apis.map((api) => api.url),
      admin.accessToken,
    );
    context.pool = { driver, db: block.harness.runtime.database.db, poolSize, ttlSeconds };
  });
  afterAll(async () => {
    for (const api of apis) await api.stop('SIGKILL');
  });
  return context;
}

describe.runIf(testEnvironment.databaseUrl)('the pool through two api processes', () => {
  describe('a pool of 100', () => {
    const running = usePoolUnderTest(100, 120);

    it('never evicts in bursts of 90 and of 100 leases on an emptied pool', async () => {
      for (const count of [90, 100, 100, 100]) await burstWithRoom(running.pool, count);
    });

    it('evicts exactly the 20 oldest holders when 20 leases arrive at once on a full pool', async () => {
      for (let round = 0; round < 3; round += 1) await burstOnFullPool(running.pool, 20);
    });
  });

  describe('random bursts on a small pool with a one-second lease', () => {
    const running = usePoolUnderTest(8, 1);

    it('keep every rule of the pool in every history', { timeout: 120_000 }, async () => {
      const seen = await checkRandomBursts(running.pool, { seed: 20261122, numRuns: 8, timeLimitMs: 60_000 });
      for (const count of Object.values(seen)) expect(count).toBeGreaterThan(0);
    });
  });
});
