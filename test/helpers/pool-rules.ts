import { describe, expect, it } from 'vitest';
import { burstOnFullPool, burstWithRoom, checkRandomBursts, type PoolUnderTest } from './pool-scenarios.js';

/** Serves a pool for the enclosing `describe`; `pool` is filled in before the block's first test. */
export type UsePoolUnderTest = (poolSize: number, ttlSeconds: number) => { pool: PoolUnderTest };

/** How hard the rules are pushed where the pool is served. */
export interface PoolRulesEffort {
  /** Sizes of the bursts on an emptied pool of 100, in order. */
  burstsWithRoom: number[];
  /** Bursts of 20 on a full pool of 100. */
  fullPoolBursts: number;
  /** The random bursts' fixed seed and how many runs they make. */
  random: { seed: number; numRuns: number };
}

/**
 * The pool's rules, the same wherever the pool is served: bursts on a pool of 100 with and without
 * room, and random bursts on a small pool with a one-second lease.
 */
export function describePoolRules(usePoolUnderTest: UsePoolUnderTest, effort: PoolRulesEffort): void {
  describe('a pool of 100', () => {
    const running = usePoolUnderTest(100, 120);

    it('never evicts in bursts of 90 and of 100 leases on an emptied pool', async () => {
      for (const count of effort.burstsWithRoom) await burstWithRoom(running.pool, count);
    });

    it('evicts exactly the 20 oldest holders when 20 leases arrive at once on a full pool', async () => {
      for (let round = 0; round < effort.fullPoolBursts; round += 1) await burstOnFullPool(running.pool, 20);
    });
  });

  describe('random bursts on a small pool with a one-second lease', () => {
    const running = usePoolUnderTest(8, 1);

    it('keep every rule of the pool in every history', { timeout: 120_000 }, async () => {
      const seen = await checkRandomBursts(running.pool, { ...effort.random, timeLimitMs: 60_000 });
      // Each way a lease can end was exercised, so the check was not vacuous.
      for (const count of Object.values(seen)) expect(count).toBeGreaterThan(0);
    });
  });
}
