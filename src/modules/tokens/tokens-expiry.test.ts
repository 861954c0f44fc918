import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { client, expectProblem } from '../../../test/helpers/client.js';
import { type Harness, startHarness } from '../../../test/helpers/harness.js';
import { leaseTokenAt } from '../../../test/helpers/lease-at.js';
import { expectPoolInvariants } from '../../../test/helpers/pool-invariants.js';
import { queryRows } from '../../infra/db/database.js';
import { NO_REQUEST } from '../audit/audit-origin.js';
import type { TokenEvent } from './token-events.js';
import { createTokensService } from './tokens.service.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the database clock has passed an instant. */
async function waitPast(harness: Harness, instant: string): Promise<void> {
  for (;;) {
    const [row] = await queryRows<{ past: boolean }>(
      harness.runtime.database.db,
      sql`select clock_timestamp() >= ${instant}::timestamptz as past`,
    );
    if (row?.past) return;
    await sleep(20);
  }
}

// No workers here: nothing but the database clock decides when a lease is over.
describe('expiry by the database clock alone', () => {
  let harness: Harness;
  let api: ReturnType<typeof client>;
  let admin: { accessToken: string };

  beforeAll(async () => {
    harness = await startHarness({ TOKEN_POOL_SIZE: '1', TOKEN_TTL_SECONDS: '1' }, { workers: false });
    api = client(harness.app);
    admin = await signInAdmin(harness);
  });
  afterAll(() => harness.close());

  it('keeps a lease active until the microsecond before leasedAt + TTL, and frees it at that instant', async () => {
    const { db } = harness.runtime.database;
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
    const holder = await api.signUp();
    const lease = (await api.post('/tokens/lease', undefined, holder.accessToken)).json();
    expect((await api.get(`/tokens/${lease.tokenId}`, holder.accessToken)).json().status).toBe('active');
    await waitPast(harness, lease.expiresAt);

    const token = (await api.get(`/tokens/${lease.tokenId}`, holder.accessToken)).json();
    expect(token).toMatchObject({ status: 'available', userId: null, leasedAt: null, expiresAt: null });
    expect(token.history[0]).toEqual({ ...token.history[0], endReason: 'expired', endedAt: lease.expiresAt });
    expect((await api.get('/tokens', holder.accessToken)).json().meta).toEqual({ total: 1, active: 0, available: 1 });
    expectProblem(await api.post(`/tokens/${lease.tokenId}/release`, undefined, holder.accessToken), 409);
    const [open] = await queryRows<{ open: number }>(
      harness.runtime.database.db,
      sql`select count(*)::int as open from token_leases where ended_at is null`,
    );
    expect(open?.open).toBe(1);

    // The holder asking again gets a new lease, not the dead one back.
    const again = await api.post('/tokens/lease', undefined, holder.accessToken);
    expect(again.statusCode).toBe(201);
    expect(again.json().evictedUserId).toBeNull();
    await expectPoolInvariants(harness.runtime.database.db, 1);
    await api.delete('/tokens/active', admin.accessToken);
  });

  it('lets a release racing the expiry either win or lose, never both', async () => {
    const holder = await api.signUp();
    const lease = (await api.post('/tokens/lease', undefined, holder.accessToken)).json();
    await sleep(Math.max(0, Date.parse(lease.expiresAt) - Date.now() - 40));
    const answers = [];
    for (let i = 0; i < 40; i += 1) {
      answers.push(await api.post(`/tokens/${lease.tokenId}/release`, undefined, holder.accessToken));
      await sleep(2);
    }
    const wins = answers.filter((a) => a.statusCode === 200);
    expect(wins.length).toBeLessThanOrEqual(1);
    expect(answers.every((a) => a.statusCode === 200 || a.statusCode === 409)).toBe(true);
    await waitPast(harness, lease.expiresAt);
    await createTokensService(harness.runtime).expireDue();
    const history = (await api.get(`/tokens/${lease.tokenId}/history?pageSize=1`, holder.accessToken)).json().data;
    if (wins.length === 1) {
      expect(history[0]).toMatchObject({ endReason: 'released', endedAt: wins[0]?.json().endedAt });
      expect(Date.parse(history[0].endedAt)).toBeLessThan(Date.parse(lease.expiresAt));
    } else {
      expect(history[0]).toMatchObject({ endReason: 'expired', endedAt: lease.expiresAt });
    }
  });
});

describe('the expiry job', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ TOKEN_POOL_SIZE: '2', TOKEN_TTL_SECONDS: '1' });
  });
  afterAll(() => harness.close());

  it('closes due leases as expired within a second, logs them with no user and announces them', async () => {
    const api = client(harness.app);
    const heard: TokenEvent[] = [];
    const unsubscribe = await harness.runtime.events.subscribe('tokens', (event) => heard.push(event as TokenEvent));
    const holder = await api.signUp();
    const lease = (await api.post('/tokens/lease', undefined, holder.accessToken)).json();
    await waitPast(harness, lease.expiresAt);
    await sleep(1000);
    unsubscribe();

    const [row] = await queryRows<{ endedAt: string; endReason: string }>(
      harness.runtime.database.db,
      sql`select to_char(ended_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "endedAt", end_reason as "endReason"
          from token_leases where token_id = ${lease.tokenId}::uuid`,
    );
    expect(row).toEqual({ endedAt: lease.expiresAt, endReason: 'expired' });
    const [audit] = await queryRows<{ userId: string | null; metadata: { userId: string } }>(
      harness.runtime.database.db,
      sql`select user_id as "userId", metadata from audit_logs where action = 'token.expired' and target_id = ${lease.tokenId}`,
    );
    expect(audit).toEqual({ userId: null, metadata: { userId: holder.user.id, endedAt: lease.expiresAt } });
    expect(heard.map((event) => event.type)).toEqual(['leased', 'expired']);
  });
});
