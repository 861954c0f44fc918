import { beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { client } from '../../../test/helpers/client.js';
import { startHarness, useHarness } from '../../../test/helpers/harness.js';
import { type AnsweredLease, expectPoolInvariants } from '../../../test/helpers/pool-invariants.js';

const POOL = 10;
const file = useHarness({ TOKEN_POOL_SIZE: String(POOL) });
let admin: { accessToken: string };

beforeAll(async () => {
  admin = await signInAdmin(file.harness);
});

function leaseFor(userId: string) {
  return file.api.post('/tokens/lease', { userId }, admin.accessToken);
}

describe('under concurrency', () => {
  it('answers every one of 300 simultaneous leases on a pool of 10 with a lease, and keeps the invariants', async () => {
    const answers = await Promise.all(Array.from({ length: 300 }, () => leaseFor(crypto.randomUUID())));
    expect(answers.map((a) => a.statusCode)).toEqual(answers.map(() => 201));
    const leases: AnsweredLease[] = answers.map((a) => a.json());
    await expectPoolInvariants(file.harness.runtime.database.db, POOL, leases);
    const meta = (await file.api.get('/tokens', admin.accessToken)).json().meta;
    expect(meta).toEqual({ total: POOL, active: POOL, available: 0 });
  });

  it('gives one holder asking 30 times at once exactly one lease', async () => {
    const holder = crypto.randomUUID();
    const answers = await Promise.all(Array.from({ length: 30 }, () => leaseFor(holder)));
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(29);
    expect(new Set(answers.map((a) => a.json().tokenId)).size).toBe(1);
    await expectPoolInvariants(file.harness.runtime.database.db, POOL);
  });

  it('keeps the invariants when a clear races a storm of leases', async () => {
    const leases = Array.from({ length: 100 }, (_, i) =>
      i === 50 ? file.api.delete('/tokens/active', admin.accessToken) : leaseFor(crypto.randomUUID()),
    );
    const answers = await Promise.all(leases);
    const [clear] = answers.splice(50, 1);
    expect(clear?.statusCode).toBe(200);
    expect(answers.every((a) => a.statusCode === 201)).toBe(true);
    await expectPoolInvariants(
      file.harness.runtime.database.db,
      POOL,
      answers.map((a) => a.json()),
    );
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
