import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { expectProblem } from '../../../test/helpers/client.js';
import { useHarness } from '../../../test/helpers/harness.js';
import { queryRows } from '../../infra/db/database.js';

const POOL = 2;
const TTL_SECONDS = 120;
const file = useHarness({ TOKEN_POOL_SIZE: String(POOL), TOKEN_TTL_SECONDS: String(TTL_SECONDS) });
let admin: { accessToken: string };

interface Lease {
  tokenId: string;
  userId: string;
  leasedAt: string;
  expiresAt: string;
  fence: number;
  metadata: Record<string, unknown> | null;
}

beforeAll(async () => {
  admin = await signInAdmin(file.harness);
});

const clearPool = async () => expect((await file.api.delete('/tokens/active', admin.accessToken)).statusCode).toBe(200);

/** An admin leasing for `holder`, as a service acting for its workers does. */
async function leaseFor(holder: string, body: Record<string, unknown> = {}) {
  return file.api.post('/tokens/lease', { userId: holder, ...body }, admin.accessToken);
}

async function validate(lease: Pick<Lease, 'tokenId' | 'userId' | 'fence'>) {
  const answer = await file.api.get(
    `/tokens/${lease.tokenId}/validate?userId=${lease.userId}&fence=${lease.fence}`,
    admin.accessToken,
  );
  expect(answer.statusCode, answer.body).toBe(200);
  return answer.json();
}

describe('fences', () => {
  it('increase with every lease granted, and validate says who holds a token now and why the others do not', async () => {
    await clearPool();
    const [a, b, c] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    const first = (await leaseFor(a)).json() as Lease;
    const second = (await leaseFor(b)).json() as Lease;
    expect(second.fence).toBeGreaterThan(first.fence);
    expect(await validate(first)).toEqual({ valid: true, expiresAt: first.expiresAt });

    // A full pool: c takes a's token, so a learns it was evicted, and c's fence is the greatest yet.
    const third = (await leaseFor(c)).json() as Lease;
    expect(third.tokenId).toBe(first.tokenId);
    expect(third.fence).toBeGreaterThan(second.fence);
    expect(await validate(first)).toEqual({ valid: false, reason: 'evicted' });
    expect(await validate(third)).toEqual({ valid: true, expiresAt: third.expiresAt });

    expect((await file.api.post(`/tokens/${second.tokenId}/release`, undefined, admin.accessToken)).statusCode).toBe(
      200,
    );
    expect(await validate(second)).toEqual({ valid: false, reason: 'released' });

    await clearPool();
    expect(await validate(third)).toEqual({ valid: false, reason: 'cleared' });

    // Nothing of b's on this token has this fence; no holder has a fence not given yet.
    expect(await validate({ ...third, userId: b })).toEqual({ valid: false, reason: 'unknown' });
    expect(await validate({ ...third, fence: third.fence + 1000 })).toEqual({ valid: false, reason: 'unknown' });
  });

  it('says superseded when the holder holds the token again under a newer fence', async () => {
    await clearPool();
    const holder = crypto.randomUUID();
    const first = (await leaseFor(holder)).json() as Lease;
    await file.api.post(`/tokens/${first.tokenId}/release`, undefined, admin.accessToken);
    // The released token is free again, and the first free token in order is the same one.
    const again = (await leaseFor(holder)).json() as Lease;
    expect(again.tokenId).toBe(first.tokenId);
    expect(await validate(first)).toEqual({ valid: false, reason: 'superseded' });
    expect(await validate(again)).toEqual({ valid: true, expiresAt: again.expiresAt });
  });

  it('says expired once the database clock passes the lease end, before any sweep closed it', async () => {
    await clearPool();
    const lease = (await leaseFor(crypto.randomUUID())).json() as Lease;
    // Move the lease into the past as a clock jump would, leaving it open as a sweep not yet run would.
    await queryRows(
      file.harness.runtime.database.db,
      sql`update token_leases set leased_at = leased_at - interval '1 hour', expires_at = expires_at - interval '1 hour'
          where id = ${lease.fence}`,
    );
    await queryRows(
      file.harness.runtime.database.db,
      sql`update tokens set leased_at = leased_at - interval '1 hour', expires_at = expires_at - interval '1 hour'
          where id = ${lease.tokenId}::uuid`,
    );
    expect(await validate(lease)).toEqual({ valid: false, reason: 'expired' });
  });

  it('answers 404 for a token outside the pool and 400 for a fence that is not a positive integer', async () => {
    const lease = { tokenId: crypto.randomUUID(), userId: crypto.randomUUID(), fence: 1 };
    expectProblem(
      await file.api.get(`/tokens/${lease.tokenId}/validate?userId=${lease.userId}&fence=1`, admin.accessToken),
      404,
      'NOT_FOUND',
    );
    const bad = await file.api.get(
      `/tokens/${lease.tokenId}/validate?userId=${lease.userId}&fence=-3`,
      admin.accessToken,
    );
    expect(expectProblem(bad, 400, 'VALIDATION_FAILED').errors?.map((e) => e.field)).toEqual(['fence']);
  });
});

describe('onFull: "fail"', () => {
  it('takes a free token like any lease, and on a full pool answers 409 POOL_FULL with the seconds until the oldest lease ends', async () => {
    await clearPool();
    const oldest = (await leaseFor(crypto.randomUUID(), { onFull: 'fail' })).json() as Lease;
    expect(oldest.fence).toEqual(expect.any(Number));
    await leaseFor(crypto.randomUUID(), { onFull: 'fail' });
    const refused = await leaseFor(crypto.randomUUID(), { onFull: 'fail' });
    expectProblem(refused, 409, 'POOL_FULL');
    const retryAfter = Number(refused.headers['retry-after']);
    const untilOldestEnds = (Date.parse(oldest.expiresAt) - Date.now()) / 1000;
    expect(retryAfter).toBeGreaterThanOrEqual(Math.floor(untilOldestEnds) - 1);
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(untilOldestEnds) + 1);
    // Nobody lost a lease to the refused request.
    expect(await validate(oldest)).toEqual({ valid: true, expiresAt: oldest.expiresAt });
    // The default still evicts.
    expect((await leaseFor(crypto.randomUUID())).json()).toMatchObject({ tokenId: oldest.tokenId });
  });
});

describe('metadata', () => {
  it('is kept with the lease and shown in the lease, the token views and the history', async () => {
    await clearPool();
    const metadata = { job: 'nightly-report', host: 'worker-3', attempt: 2, tags: ['a', 'b'] };
    const answer = await leaseFor(crypto.randomUUID(), { metadata });
    expect(answer.statusCode).toBe(201);
    const lease = answer.json() as Lease;
    expect(lease.metadata).toEqual(metadata);
    // A retry gets the same lease back, metadata and all, whatever it sends now.
    const again = (await leaseFor(lease.userId, { metadata: { other: true } })).json() as Lease;
    expect(again).toEqual(lease);

    const token = (await file.api.get(`/tokens/${lease.tokenId}`, admin.accessToken)).json();
    expect(token).toMatchObject({ fence: lease.fence, metadata });
    expect(token.history[0]).toMatchObject({ fence: lease.fence, metadata });
    const list = (await file.api.get('/tokens?status=active', admin.accessToken)).json();
    expect(list.data).toEqual([expect.objectContaining({ id: lease.tokenId, fence: lease.fence, metadata })]);
  });

  it('is refused above 1 KiB, or when it is not an object, with a 400 naming the field', async () => {
    const tooLarge = await leaseFor(crypto.randomUUID(), { metadata: { note: 'x'.repeat(1100) } });
    expect(expectProblem(tooLarge, 400, 'VALIDATION_FAILED').errors).toEqual([
      { field: 'metadata', message: 'must be at most 1024 bytes as JSON' },
    ]);
    const notAnObject = await leaseFor(crypto.randomUUID(), { metadata: ['a list'] });
    expect(expectProblem(notAnObject, 400, 'VALIDATION_FAILED').errors?.map((e) => e.field)).toEqual(['metadata']);
  });
});
