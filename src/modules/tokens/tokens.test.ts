import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { expectProblem } from '../../../test/helpers/client.js';
import { useHarness } from '../../../test/helpers/harness.js';
import { expectPoolInvariants } from '../../../test/helpers/pool-invariants.js';

// The routes of tokens.routes.ts, one behaviour at a time. Beside this file: the expiry boundary
// (tokens-expiry), the sweep and a restart (tokens.background), invariants and rules under bursts
// (tokens-concurrency, tokens-rules); across processes, test/tokens-processes and pool-rules-processes.
const POOL = 3;
const file = useHarness({ TOKEN_POOL_SIZE: String(POOL) });
let admin: { accessToken: string };

beforeAll(async () => {
  admin = await signInAdmin(file.harness);
});

const clearPool = async () => expect((await file.api.delete('/tokens/active', admin.accessToken)).statusCode).toBe(200);

describe('POST /tokens/lease', () => {
  it('leases a token for the caller, and a retry gets the same lease back unchanged', async () => {
    await clearPool();
    const { user, accessToken } = await file.api.signUp();
    const first = await file.api.post('/tokens/lease', undefined, accessToken);
    expect(first.statusCode, first.body).toBe(201);
    const lease = first.json();
    expect(lease).toEqual({
      tokenId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      userId: user.id,
      leasedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
      expiresAt: expect.any(String),
      evictedUserId: null,
      fence: expect.any(Number),
      metadata: null,
    });
    const ttl = Date.parse(lease.expiresAt) - Date.parse(lease.leasedAt);
    expect(ttl).toBe(120_000);

    const again = await file.api.post('/tokens/lease', {}, accessToken);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(lease);
  });

  it('evicts the oldest lease when the pool is full, again and again', async () => {
    await clearPool();
    const holders: string[] = [];
    const tokenOf = new Map<string, string>();
    for (let i = 0; i < POOL * 4; i += 1) {
      const holder = crypto.randomUUID();
      const response = await file.api.post('/tokens/lease', { userId: holder }, admin.accessToken);
      expect(response.statusCode, response.body).toBe(201);
      const lease = response.json();
      const oldest = i >= POOL ? holders[i - POOL] : null;
      expect(lease.evictedUserId).toBe(oldest);
      if (oldest) expect(lease.tokenId).toBe(tokenOf.get(oldest));
      holders.push(holder);
      tokenOf.set(holder, lease.tokenId);
    }
    const evicted = holders[0] as string;
    const token = (await file.api.get(`/tokens/${tokenOf.get(evicted)}`, admin.accessToken)).json();
    expect(token.history.find((h: { userId: string }) => h.userId === evicted)).toMatchObject({ endReason: 'evicted' });
    await expectPoolInvariants(file.harness.runtime.database.db, POOL);
  });

  it('lets only admins lease for someone else', async () => {
    const { accessToken } = await file.api.signUp();
    expectProblem(await file.api.post('/tokens/lease', { userId: crypto.randomUUID() }, accessToken), 403, 'FORBIDDEN');
    expectProblem(
      await file.api.post('/tokens/lease', { userId: 'nope' }, admin.accessToken),
      400,
      'VALIDATION_FAILED',
    );
    expectProblem(await file.api.post('/tokens/lease', undefined), 401);
  });
});

describe('reading the pool', () => {
  it('lists every token with counts, filtered by status', async () => {
    await clearPool();
    const { accessToken } = await file.api.signUp();
    const lease = (await file.api.post('/tokens/lease', undefined, accessToken)).json();
    const all = (await file.api.get('/tokens', accessToken)).json();
    expect(all.meta).toEqual({ total: POOL, active: 1, available: POOL - 1, waiting: 0 });
    expect(all.data).toHaveLength(POOL);
    const active = (await file.api.get('/tokens?status=active', accessToken)).json();
    expect(active.data).toEqual([
      {
        id: lease.tokenId,
        status: 'active',
        userId: lease.userId,
        leasedAt: lease.leasedAt,
        expiresAt: lease.expiresAt,
        fence: lease.fence,
        metadata: null,
      },
    ]);
    const available = (await file.api.get('/tokens?status=available', accessToken)).json();
    expect(available.data).toHaveLength(POOL - 1);
    expect(
      available.data.every((t: { status: string; userId: null }) => t.status === 'available' && t.userId === null),
    ).toBe(true);
    expectProblem(await file.api.get('/tokens?status=broken', accessToken), 400);
  });

  it('shows one token with its latest leases, and pages its history', async () => {
    await clearPool();
    const holders = Array.from({ length: 13 }, () => crypto.randomUUID());
    const tokenIds = new Set<string>();
    for (const holder of holders) {
      const lease = (await file.api.post('/tokens/lease', { userId: holder }, admin.accessToken)).json();
      tokenIds.add(lease.tokenId);
    }
    // With 3 tokens, 13 leases cycle through each; pick the busiest token.
    const histories = await Promise.all(
      [...tokenIds].map(async (id) =>
        (await file.api.get(`/tokens/${id}/history?pageSize=100`, admin.accessToken)).json(),
      ),
    );
    const busiest = histories.reduce((a, b) => (a.meta.total >= b.meta.total ? a : b));
    const id = [...tokenIds][histories.indexOf(busiest)] as string;
    const detail = (await file.api.get(`/tokens/${id}`, admin.accessToken)).json();
    expect(detail).toMatchObject({ id, status: 'active' });
    expect(detail.history.length).toBeLessThanOrEqual(10);
    expect(detail.history[0]).toMatchObject({ endedAt: null, endReason: null, userId: detail.userId });
    expect(detail.history.slice(1).every((h: { endReason: string }) => h.endReason !== null)).toBe(true);
    const page2 = (await file.api.get(`/tokens/${id}/history?page=2&pageSize=2`, admin.accessToken)).json();
    expect(page2.data).toEqual(busiest.data.slice(2, 4));
    expect(page2.meta).toMatchObject({ page: 2, pageSize: 2, total: busiest.meta.total });
  });

  it('answers 400 for a malformed id and 404 for an unknown token', async () => {
    const { accessToken } = await file.api.signUp();
    const unknown = '00000000-0000-4000-8000-000000000000';
    expectProblem(await file.api.get('/tokens/123', accessToken), 400);
    expectProblem(await file.api.get(`/tokens/${unknown}`, accessToken), 404, 'NOT_FOUND');
    expectProblem(await file.api.get(`/tokens/${unknown}/history`, accessToken), 404);
    expectProblem(await file.api.post(`/tokens/${unknown}/release`, undefined, accessToken), 404);
    expectProblem(await file.api.post('/tokens/xyz/release', undefined, accessToken), 400);
  });
});

describe('POST /tokens/:id/release', () => {
  it('ends the lease as released, for the holder; 409 once it is not active; 403 for others', async () => {
    await clearPool();
    const holder = await file.api.signUp();
    const stranger = await file.api.signUp();
    const lease = (await file.api.post('/tokens/lease', undefined, holder.accessToken)).json();

    expectProblem(await file.api.post(`/tokens/${lease.tokenId}/release`, undefined, stranger.accessToken), 403);
    const released = await file.api.post(`/tokens/${lease.tokenId}/release`, undefined, holder.accessToken);
    expect(released.statusCode, released.body).toBe(200);
    expect(released.json()).toMatchObject({
      userId: holder.user.id,
      leasedAt: lease.leasedAt,
      endReason: 'released',
      endedAt: expect.any(String),
    });
    expectProblem(
      await file.api.post(`/tokens/${lease.tokenId}/release`, undefined, holder.accessToken),
      409,
      'TOKEN_NOT_ACTIVE',
    );
    const token = (await file.api.get(`/tokens/${lease.tokenId}`, holder.accessToken)).json();
    expect(token).toMatchObject({ status: 'available', userId: null });

    // A new lease after a release is a new lease (201), not the old one back.
    expect((await file.api.post('/tokens/lease', undefined, holder.accessToken)).statusCode).toBe(201);
  });

  it('lets an admin release anyone', async () => {
    const holder = await file.api.signUp();
    const lease = (await file.api.post('/tokens/lease', undefined, holder.accessToken)).json();
    expect((await file.api.post(`/tokens/${lease.tokenId}/release`, undefined, admin.accessToken)).statusCode).toBe(
      200,
    );
  });
});

describe('DELETE /tokens/active', () => {
  it('ends every active lease as cleared; admins only', async () => {
    await clearPool();
    for (let i = 0; i < 2; i += 1)
      await file.api.post('/tokens/lease', { userId: crypto.randomUUID() }, admin.accessToken);
    const { accessToken } = await file.api.signUp();
    expectProblem(await file.api.delete('/tokens/active', accessToken), 403, 'FORBIDDEN');
    const cleared = await file.api.delete('/tokens/active', admin.accessToken);
    expect(cleared.json()).toEqual({ released: 2 });
    expect((await file.api.get('/tokens', accessToken)).json().meta).toEqual({
      total: POOL,
      active: 0,
      available: POOL,
      waiting: 0,
    });
    expect((await file.api.delete('/tokens/active', admin.accessToken)).json()).toEqual({ released: 0 });
  });
});

describe('audit', () => {
  it('records lease, eviction, release and clear', async () => {
    await clearPool();
    const caller = await file.api.signUp();
    const lease = (await file.api.post('/tokens/lease', undefined, caller.accessToken)).json();
    await file.api.post(`/tokens/${lease.tokenId}/release`, undefined, caller.accessToken);
    const own = (await file.api.get('/logs', caller.accessToken)).json();
    expect(own.data.map((e: { action: string }) => e.action).slice(0, 2)).toEqual(['token.released', 'token.leased']);

    for (let i = 0; i <= POOL; i += 1)
      await file.api.post('/tokens/lease', { userId: crypto.randomUUID() }, admin.accessToken);
    await clearPool();
    const all = (await file.api.get('/logs?pageSize=100', admin.accessToken)).json();
    const actions = new Set(all.data.map((e: { action: string }) => e.action));
    for (const action of ['token.leased', 'token.released', 'token.evicted', 'tokens.cleared']) {
      expect(actions, action).toContain(action);
    }
  });
});

describe('the pool itself', () => {
  it('cannot grow or shrink, even by hand', async () => {
    const { db } = file.harness.runtime.database;
    // Drizzle wraps the database's error; the reason is in its cause.
    const refusal = (statement: Parameters<typeof db.execute>[0]) =>
      db.execute(statement).then(
        () => 'accepted',
        (error: Error & { cause?: Error }) => error.cause?.message ?? error.message,
      );
    expect(await refusal(sql`insert into tokens (id) values (gen_random_uuid())`)).toMatch(/never resized/);
    expect(await refusal(sql`delete from tokens`)).toMatch(/never resized/);
    expect(await refusal(sql`truncate tokens cascade`)).toMatch(/never resized/);
    await expectPoolInvariants(db, POOL);
  });
});
