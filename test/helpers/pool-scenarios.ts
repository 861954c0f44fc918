import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { expect } from 'vitest';
import { type Db, queryRows } from '../../src/infra/db/database.js';
import { checkPoolHistory, describeViolations, type PoolAnswer } from './pool-checker.js';
import type { PoolDriver } from './pool-driver.js';
import { readPoolHistory } from './pool-history.js';

/** A running pool as the tests drive it: its routes, its database, its configuration. */
export interface PoolUnderTest {
  driver: PoolDriver;
  db: Db;
  poolSize: number;
  ttlSeconds: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Where this scope's history starts: the last lease made, and the database clock, before it. */
export async function scopeMark(db: Db): Promise<{ afterLeaseId: number; afterInstant: number }> {
  const [row] = await queryRows<{ id: string; now: string }>(
    db,
    sql`select coalesce(max(id), 0)::text as id, (extract(epoch from clock_timestamp()) * 1000000)::bigint::text as now
        from token_leases`,
  );
  return { afterLeaseId: Number(row?.id), afterInstant: Number(row?.now) };
}

/**
 * Checks the whole history against every rule, explaining only what this scope's answers did;
 * `waiters` are the holders that asked with `onFull: "wait"` (see CheckScope).
 */
export async function expectPoolHistoryHolds(
  pool: Pick<PoolUnderTest, 'db' | 'ttlSeconds'>,
  answers: PoolAnswer[],
  mark: { afterLeaseId: number; afterInstant: number },
  waiters?: ReadonlySet<string>,
): Promise<void> {
  const violations = checkPoolHistory(await readPoolHistory(pool.db), {
    answers,
    ttlMicros: pool.ttlSeconds * 1_000_000,
    ...mark,
    ...(waiters ? { waiters } : {}),
  });
  expect(violations, describeViolations(violations)).toEqual([]);
}

/**
 * On an emptied pool, `count` leases for new holders at once: with room for all of them, none may
 * evict, and no two may share a token.
 */
export async function burstWithRoom(pool: PoolUnderTest, count: number): Promise<void> {
  expect((await pool.driver.clear()).status).toBe(200);
  const mark = await scopeMark(pool.db);
  const answers = await Promise.all(Array.from({ length: count }, () => pool.driver.lease(randomUUID())));
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
  expect(answers.filter((a) => a.body?.evictedUserId !== null)).toEqual([]);
  expect(new Set(answers.map((a) => a.body?.tokenId)).size).toBe(count);
  await expectPoolHistoryHolds(pool, answers, mark);
}

/**
 * Fills an emptied pool one lease at a time, so the age of every lease is known, then asks for
 * `count` leases for new holders at once: exactly the `count` oldest holders lose their tokens.
 */
export async function burstOnFullPool(pool: PoolUnderTest, count: number): Promise<void> {
  expect((await pool.driver.clear()).status).toBe(200);
  const mark = await scopeMark(pool.db);
  const answers: PoolAnswer[] = [];
  const holders: string[] = [];
  for (let i = 0; i < pool.poolSize; i += 1) {
    const holder = randomUUID();
    holders.push(holder);
    answers.push(await pool.driver.lease(holder));
  }
  const burst = await Promise.all(Array.from({ length: count }, () => pool.driver.lease(randomUUID())));
  answers.push(...burst);
  expect(burst.map((a) => a.status)).toEqual(burst.map(() => 201));
  const evicted = burst.map((a) => a.body?.evictedUserId).sort();
  expect(evicted).toEqual(holders.slice(0, count).sort());
  await expectPoolHistoryHolds(pool, answers, mark);
}

type Op = { kind: 'lease'; holder: number | 'new' } | { kind: 'release'; holder: number } | { kind: 'clear' };

interface Burst {
  ops: Op[];
  pauseMs: number;
}

const KNOWN_HOLDERS = 6;

function planArbitrary(pool: PoolUnderTest): fc.Arbitrary<Burst[]> {
  const holder = fc.nat(KNOWN_HOLDERS - 1);
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 5, arbitrary: fc.constant<Op>({ kind: 'lease', holder: 'new' }) },
    { weight: 3, arbitrary: holder.map<Op>((h) => ({ kind: 'lease', holder: h })) },
    { weight: 2, arbitrary: holder.map<Op>((h) => ({ kind: 'release', holder: h })) },
    { weight: 1, arbitrary: fc.constant<Op>({ kind: 'clear' }) },
  );
  const burst = fc.record({
    ops: fc.array(op, { minLength: 1, maxLength: 3 * pool.poolSize }),
    // Now and then long enough for every lease to reach its end, so expiries race the bursts.
    pauseMs: fc.constantFrom(0, 150, pool.ttlSeconds * 1000 + 100),
  });
  return fc.array(burst, { minLength: 1, maxLength: 5 });
}

/** How often each way a lease ends was seen across the runs, so a run that tried nothing fails. */
export type Seen = Record<'evicted' | 'expired' | 'released' | 'cleared' | 'same', number>;

async function runPlan(pool: PoolUnderTest, plan: Burst[], seen: Seen): Promise<void> {
  const mark = await scopeMark(pool.db);
  const known = Array.from({ length: KNOWN_HOLDERS }, () => randomUUID());
  const lastToken = new Map<string, string>();
  const answers: PoolAnswer[] = [];
  for (const burst of plan) {
    const tokens = new Map(lastToken);
    const results = await Promise.all(
      burst.ops.map((op): Promise<PoolAnswer> | undefined => {
        if (op.kind === 'clear') return pool.driver.clear();
        if (op.kind === 'lease')
          return pool.driver.lease(op.holder === 'new' ? randomUUID() : (known[op.holder] as string));
        const token = tokens.get(known[op.holder] as string);
        return token ? pool.driver.release(token) : undefined;
      }),
    );
    for (const answer of results) {
      if (!answer) continue;
      answers.push(answer);
      if (answer.kind === 'lease' && answer.body) lastToken.set(answer.userId, answer.body.tokenId);
      if (answer.kind === 'lease' && answer.status === 200) seen.same += 1;
    }
    if (burst.pauseMs > 0) await sleep(burst.pauseMs);
  }
  const history = await readPoolHistory(pool.db);
  for (const lease of history.leases) {
    if (lease.endReason && lease.endedAt !== null && lease.endedAt > mark.afterInstant) seen[lease.endReason] += 1;
  }
  const violations = checkPoolHistory(history, { answers, ttlMicros: pool.ttlSeconds * 1_000_000, ...mark });
  if (violations.length > 0) throw new Error(`the pool broke its rules:\n${describeViolations(violations)}`);
}

/**
 * The model-based check: random bursts of leases (for new and returning holders), releases and
 * clears, with pauses that let leases expire, each run's history rebuilt and checked against every
 * rule. Fixed seed, bounded runs; on a failure fast-check shrinks the plan and reports the smallest
 * one it found, with the leases that break the rule.
 */
export async function checkRandomBursts(
  pool: PoolUnderTest,
  options: { seed: number; numRuns: number; timeLimitMs: number },
): Promise<Seen> {
  const seen: Seen = { evicted: 0, expired: 0, released: 0, cleared: 0, same: 0 };
  await fc.assert(
    fc.asyncProperty(planArbitrary(pool), (plan) => runPlan(pool, plan, seen)),
    { seed: options.seed, numRuns: options.numRuns, interruptAfterTimeLimit: options.timeLimitMs },
  );
  return seen;
}
