import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from './helpers/admin.js';
import { testEnvironment } from './helpers/environment.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { httpDriver } from './helpers/pool-driver.js';
import { burstOnFullPool, burstWithRoom, checkRandomBursts, type PoolUnderTest } from './helpers/pool-scenarios.js';
import { type ServiceProcess, startProcess } from './helpers/processes.js';

// The pool's rules through two `api` processes on one PostgreSQL: the requests of one burst are
// spread over both, so they race in the database, not in one process's batcher.
interface Running {
  harness: Harness;
  apis: ServiceProcess[];
  pool: PoolUnderTest;
}

async function start(poolSize: number, ttlSeconds: number): Promise<Running> {
  const harness = await startHarness({ TOKEN_POOL_SIZE: String(poolSize), TOKEN_TTL_SECONDS: String(ttlSeconds) });
  const admin = await signInAdmin(harness);
  const env = { ...harness.env, LOG_LEVEL: 'warn' };
  const apis = await Promise.all([startProcess('api', env), startProcess('api', env)]);
  const driver = httpDriver(
    apis.map((api) => api.url),
    admin.accessToken,
  );
  return { harness, apis, pool: { driver, db: harness.runtime.database.db, poolSize, ttlSeconds } };
}

async function stop(running: Running): Promise<void> {
  for (const api of running.apis) await api.stop('SIGKILL');
  await running.harness.close();
}

describe.runIf(testEnvironment.databaseUrl)('the pool through two api processes', () => {
  describe('a pool of 100', () => {
    let running: Running;
    beforeAll(async () => {
      running = await start(100, 120);
    });
    afterAll(() => stop(running));

    it('never evicts in bursts of 90 and of 100 leases on an emptied pool', async () => {
      for (const count of [90, 100, 100, 100]) await burstWithRoom(running.pool, count);
    });

    it('evicts exactly the 20 oldest holders when 20 leases arrive at once on a full pool', async () => {
      for (let round = 0; round < 3; round += 1) await burstOnFullPool(running.pool, 20);
    });
  });

  describe('random bursts on a small pool with a one-second lease', () => {
    let running: Running;
    beforeAll(async () => {
      running = await start(8, 1);
    });
    afterAll(() => stop(running));

    it('keep every rule of the pool in every history', { timeout: 120_000 }, async () => {
      const seen = await checkRandomBursts(running.pool, { seed: 20261122, numRuns: 8, timeLimitMs: 60_000 });
      for (const count of Object.values(seen)) expect(count).toBeGreaterThan(0);
    });
  });
});
