import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { client } from '../../../test/helpers/client.js';
import { waitPast } from '../../../test/helpers/database-clock.js';
import { startHarness, useHarness } from '../../../test/helpers/harness.js';
import { expectPoolInvariants } from '../../../test/helpers/pool-invariants.js';
import { queryRows } from '../../infra/db/database.js';
import type { TokenEvent } from './token-events.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// What the pool's background work does: the sweep that closes due leases in the history, and the
// pool made once, at the first start, and found again at the next.

describe('the expiry job', () => {
  const block = useHarness({ TOKEN_POOL_SIZE: '2', TOKEN_TTL_SECONDS: '1' });

  it('closes due leases as expired within a second, logs them with no user and announces them', async () => {
    const { harness, api } = block;
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

describe('the pool vacuum', () => {
  const block = useHarness({ TOKEN_POOL_SIZE: '2' });

  it('removes the row versions that leases leave behind in the pool, every two seconds', async () => {
    const { harness, api } = block;
    const { db } = harness.runtime.database;
    const stats = async () => {
      const [row] = await queryRows<{ vacuums: number; dead: number }>(
        db,
        sql`select vacuum_count::int as vacuums, n_dead_tup::int as dead from pg_stat_user_tables where relname = 'tokens'`,
      );
      return row as { vacuums: number; dead: number };
    };
    const holder = await api.signUp();
    // Each lease and each release rewrites a token's row: 40 dead versions, whatever vacuumed before.
    for (let i = 0; i < 20; i += 1) {
      const { tokenId } = (await api.post('/tokens/lease', undefined, holder.accessToken)).json();
      expect((await api.post(`/tokens/${tokenId}/release`, undefined, holder.accessToken)).statusCode).toBe(200);
    }
    const before = await stats();
    // A round or two: under load, a transaction still open elsewhere in this database can keep the
    // newest versions from one round.
    await expect
      .poll(
        async () => {
          const after = await stats();
          return after.vacuums > before.vacuums && after.dead === 0;
        },
        { timeout: 6500, interval: 250 },
      )
      .toBe(true);
  });
});

describe('a restart', () => {
  it('keeps the pool, and the leases due while it was down end as expired, at their expiresAt, after it', async () => {
    const short = await startHarness({ TOKEN_POOL_SIZE: '3', TOKEN_TTL_SECONDS: '1' });
    try {
      const boss = await signInAdmin(short);
      const local = client(short.app);
      const before = (await local.get('/tokens', boss.accessToken)).json().data.map((t: { id: string }) => t.id);
      // One after another, so each takes a free token of the three and none evicts another: each
      // token's latest lease is one of these, which is what the checks after the restart read.
      const leases = [];
      for (let i = 0; i < 3; i += 1) {
        leases.push((await local.post('/tokens/lease', { userId: crypto.randomUUID() }, boss.accessToken)).json());
      }
      expect(leases.map((lease) => lease.evictedUserId)).toEqual([null, null, null]);
      expect(new Set(leases.map((lease) => lease.tokenId)).size).toBe(3);
      await short.restart();
      const after = client(short.app);
      expect((await after.get('/tokens', boss.accessToken)).json().data.map((t: { id: string }) => t.id)).toEqual(
        before,
      );
      await expectPoolInvariants(short.runtime.database.db, 3, leases);
      await new Promise((resolve) => setTimeout(resolve, 2200));
      for (const lease of leases) {
        const [last] = (await after.get(`/tokens/${lease.tokenId}/history`, boss.accessToken)).json().data;
        expect(last).toMatchObject({ userId: lease.userId, endReason: 'expired', endedAt: lease.expiresAt });
      }
      const logged = (await after.get('/logs?action=token.expired', boss.accessToken)).json();
      expect(logged.meta.total).toBe(3);
    } finally {
      await short.close();
    }
  });
});
