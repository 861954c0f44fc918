import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { expectProblem } from '../../../test/helpers/client.js';
import { waitPast } from '../../../test/helpers/database-clock.js';
import { useHarness } from '../../../test/helpers/harness.js';
import { leaseTokenAt } from '../../../test/helpers/lease-at.js';
import { expectPoolInvariants } from '../../../test/helpers/pool-invariants.js';
import { queryRows } from '../../infra/db/database.js';
import { NO_REQUEST } from '../audit/audit-origin.js';
import { createTokensService } from './tokens.service.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// No workers here: nothing but the database clock decides when a lease is over. The sweep that
// then closes due leases in the history is tested in tokens.background.test.ts.
const file = useHarness({ TOKEN_POOL_SIZE: '1', TOKEN_TTL_SECONDS: '1' }, { workers: false });
let admin: { accessToken: string };

beforeAll(async () => {
  admin = await signInAdmin(file.harness);
});

describe('expiry by the database clock alone', () => {
  it('keeps a lease active until the microsecond before leasedAt + TTL, and frees it at that instant', async () => {
    const { db } = file.harness.runtime.database;
    const lease = (holder: string, at: string) =>
      leaseTokenAt(db, { holderId: holder, ttlSeconds: 1, actorId: null, context: NO_REQUEST, at });
    const shift = async (instant: string, by: string) => {
      const [row] = await queryRows<{ at: string }>(
        db,
        sql`select to_char((${instant}::timestamptz + ${by}::interval) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at`,
      );
      return row?.at as string;
    };
    // An hour ago, so these leases are history by the time the next test reads the pool.
    const [clock] = await queryRows<{ now: string }>(db, sql`select clock_timestamp()::text as now`);
    const t0 = await shift(clock?.now as string, '-1 hour');
    const first = await lease(crypto.randomUUID(), t0);
    expect(first.leasedAt).toBe(t0);
    expect(first.expiresAt).toBe(await shift(t0, '1 second'));

    // One microsecond before the end the pool (of one) is full: the lease is evicted.
    const second = await lease(crypto.randomUUID(), await shift(first.expiresAt, '-1 microsecond'));
    expect(second).toMatchObject({ created: true, evictedUserId: first.userId, expired: [] });

    // Exactly at the end the lease is over: the token is taken as available, nobody is evicted.
    const third = await lease(crypto.randomUUID(), second.expiresAt);
    expect(third).toMatchObject({ created: true, evictedUserId: null, tokenId: second.tokenId });
    expect(third.expired).toEqual([{ tokenId: second.tokenId, userId: second.userId, endedAt: expect.any(String) }]);
    expect(Date.parse(third.expired[0]?.endedAt as string)).toBe(Date.parse(second.expiresAt));
  });

  it('shows an expired lease as available in every read, before any job closes it', async () => {
    const holder = await file.api.signUp();
    const lease = (await file.api.post('/tokens/lease', undefined, holder.accessToken)).json();
    expect((await file.api.get(`/tokens/${lease.tokenId}`, holder.accessToken)).json().status).toBe('active');
    await waitPast(file.harness, lease.expiresAt);

    const token = (await file.api.get(`/tokens/${lease.tokenId}`, holder.accessToken)).json();
    expect(token).toMatchObject({ status: 'available', userId: null, leasedAt: null, expiresAt: null });
    expect(token.history[0]).toEqual({ ...token.history[0], endReason: 'expired', endedAt: lease.expiresAt });
    expect((await file.api.get('/tokens', holder.accessToken)).json().meta).toEqual({
      total: 1,
      active: 0,
      available: 1,
      waiting: 0,
    });
    expectProblem(await file.api.post(`/tokens/${lease.tokenId}/release`, undefined, holder.accessToken), 409);
    const [open] = await queryRows<{ open: number }>(
      file.harness.runtime.database.db,
      sql`select count(*)::int as open from token_leases where ended_at is null`,
    );
    expect(open?.open).toBe(1);

    // The holder asking again gets a new lease, not the dead one back.
    const again = await file.api.post('/tokens/lease', undefined, holder.accessToken);
    expect(again.statusCode).toBe(201);
    expect(again.json().evictedUserId).toBeNull();
    await expectPoolInvariants(file.harness.runtime.database.db, 1);
    await file.api.delete('/tokens/active', admin.accessToken);
  });

  it('lets a release racing the expiry either win or lose, never both', async () => {
    const holder = await file.api.signUp();
    const lease = (await file.api.post('/tokens/lease', undefined, holder.accessToken)).json();
    await sleep(Math.max(0, Date.parse(lease.expiresAt) - Date.now() - 40));
    const answers = [];
    for (let i = 0; i < 40; i += 1) {
      answers.push(await file.api.post(`/tokens/${lease.tokenId}/release`, undefined, holder.accessToken));
      await sleep(2);
    }
    const wins = answers.filter((a) => a.statusCode === 200);
    expect(wins.length).toBeLessThanOrEqual(1);
    expect(answers.every((a) => a.statusCode === 200 || a.statusCode === 409)).toBe(true);
    await waitPast(file.harness, lease.expiresAt);
    await createTokensService(file.harness.runtime).expireDue();
    const history = (await file.api.get(`/tokens/${lease.tokenId}/history?pageSize=1`, holder.accessToken)).json().data;
    if (wins.length === 1) {
      expect(history[0]).toMatchObject({ endReason: 'released', endedAt: wins[0]?.json().endedAt });
      expect(Date.parse(history[0].endedAt)).toBeLessThan(Date.parse(lease.expiresAt));
    } else {
      expect(history[0]).toMatchObject({ endReason: 'expired', endedAt: lease.expiresAt });
    }
  });
});
