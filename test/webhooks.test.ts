import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Executor, queryRows, type Tx } from '../src/infra/db/database.js';
import { signInAdmin } from './helpers/admin.js';
import { client } from './helpers/client.js';
import { type Harness, startHarness, useHarness } from './helpers/harness.js';
import { waitFor } from './helpers/processes.js';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

// Receivers listen on 127.0.0.1, so these services allow private addresses unless a test says not.
const FAST_RETRIES = {
  JOB_BACKOFF_MS: '100',
  WEBHOOK_MAX_BACKOFF_MS: '300',
  JOB_POLL_MS: '100',
  WEBHOOK_ALLOW_PRIVATE: 'true',
};

interface Delivery {
  id: string;
  event: string;
  status: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: string | null;
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function receiver(answer?: (n: number) => number): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver(answer);
  cleanups.push(() => started.close());
  return started;
}

async function harnessWith(env: Record<string, string>): Promise<Harness> {
  const harness = await startHarness({ ...FAST_RETRIES, ...env });
  cleanups.push(() => harness.close());
  return harness;
}

async function setUp(harness: Harness) {
  const api = client(harness.app);
  const admin = await signInAdmin(harness);
  const register = async (url: string, events?: string[]) => {
    const response = await api.post('/webhooks', { url, ...(events ? { events } : {}) }, admin.accessToken);
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as { id: string; secret: string };
  };
  const deliveries = async (endpointId: string): Promise<Delivery[]> =>
    (await api.get(`/webhooks/${endpointId}/deliveries?pageSize=100`, admin.accessToken)).json().data;
  const lease = async (userId: string) => {
    const response = await api.post('/tokens/lease', { userId }, admin.accessToken);
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as { tokenId: string; userId: string; evictedUserId: string | null; fence: number };
  };
  /** Waits until every delivery of the endpoint is settled and `count` of them exist. */
  const settled = async (endpointId: string, count: number) => {
    let list: Delivery[] = [];
    await waitFor(
      async () => {
        list = await deliveries(endpointId);
        return list.length === count && list.every((delivery) => delivery.status !== 'pending');
      },
      20_000,
      () => `deliveries not settled: ${JSON.stringify(list)}`,
    );
    return list;
  };
  return { api, admin, register, deliveries, lease, settled };
}

describe('every pool event, signed', () => {
  const block = useHarness({ ...FAST_RETRIES, TOKEN_POOL_SIZE: '2' });
  let endpoints: Awaited<ReturnType<typeof setUp>>;
  beforeAll(async () => {
    endpoints = await setUp(block.harness);
  });

  it('delivers leased, released, evicted and cleared, verified with standardwebhooks, to the endpoints that asked', async () => {
    const all = await receiver();
    const evictionsOnly = await receiver();
    const { api, admin, register, lease, settled } = endpoints;
    const allHook = await register(all.url);
    const evictionHook = await register(evictionsOnly.url, ['token.evicted']);

    const [a, b, c, d] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const first = await lease(a);
    const released = await api.post(`/tokens/${first.tokenId}/release`, undefined, admin.accessToken);
    expect(released.statusCode, released.body).toBe(200);
    const second = await lease(b);
    await lease(c);
    // The pool of two is full: d takes b's token, the oldest lease.
    const evicting = await lease(d);
    expect(evicting).toMatchObject({ tokenId: second.tokenId, evictedUserId: b });
    const cleared = await api.delete('/tokens/active', admin.accessToken);
    expect(cleared.json()).toEqual({ released: 2 });

    const leased = (userId: string) => (event: { type: string; data: Record<string, unknown> }) =>
      event.type === 'token.leased' && event.data.userId === userId;
    expect(await all.waitForEvent(allHook.secret, leased(a))).toEqual({
      type: 'token.leased',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      data: { tokenId: first.tokenId, userId: a, fence: first.fence, metadata: null },
    });
    expect(await all.waitForEvent(allHook.secret, (event) => event.type === 'token.released')).toMatchObject({
      data: { tokenId: first.tokenId, userId: a },
    });
    expect(await all.waitForEvent(allHook.secret, (event) => event.type === 'token.evicted')).toMatchObject({
      data: { tokenId: second.tokenId, evictedUserId: b, byUserId: d },
    });
    expect(await all.waitForEvent(allHook.secret, (event) => event.type === 'tokens.cleared')).toMatchObject({
      data: { released: 2 },
    });
    for (const user of [b, c, d]) await all.waitForEvent(allHook.secret, leased(user));

    // Each delivered once, first time, and the log says so; webhook-id is the delivery's id.
    const log = await settled(allHook.id, 7);
    expect(log.every((delivery) => delivery.status === 'delivered' && delivery.attempts === 1)).toBe(true);
    expect(log.every((delivery) => delivery.lastStatus === 204 && delivery.lastError === null)).toBe(true);
    expect(all.received.map((request) => request.headers['webhook-id']).sort()).toEqual(
      log.map((delivery) => delivery.id).sort(),
    );
    expect(all.received[0]?.headers['content-type']).toBe('application/json');

    const onlyEvictions = (await settled(evictionHook.id, 1))[0];
    expect(onlyEvictions).toMatchObject({ event: 'token.evicted', status: 'delivered' });
    expect(evictionsOnly.verified(evictionHook.secret).map((event) => event.type)).toEqual(['token.evicted']);
    // Signed with each endpoint's own secret.
    expect(() => evictionsOnly.verified(allHook.secret)).toThrow();
  });

  it('stops delivering to a deleted endpoint', async () => {
    const target = await receiver();
    const { api, admin, register, lease } = endpoints;
    const hook = await register(target.url);
    expect((await api.delete(`/webhooks/${hook.id}`, admin.accessToken)).statusCode).toBe(204);
    const kept = await receiver();
    const keptHook = await register(kept.url, ['token.leased']);
    const user = randomUUID();
    await lease(user);
    await kept.waitForEvent(keptHook.secret, (event) => event.data.userId === user);
    expect(target.received).toEqual([]);
  });
});

describe('the outbox', () => {
  it('writes a delivery and its job exactly when the event commits, and nothing for other actions', async () => {
    const harness = await harnessWith({});
    const { register } = await setUp(harness);
    // Never resolved (RFC 2606): nothing leaves the machine.
    const hook = await register('https://hooks.invalid/outbox', ['token.released']);
    const leasesHook = await register('https://hooks.invalid/leases', ['token.leased']);
    const { db } = harness.runtime.database;
    const record = (tx: Tx, action: string) =>
      tx.execute(sql`insert into audit_logs (action, target_type, target_id, metadata)
                     values (${action}, 'token', ${randomUUID()}, '{"userId":"u"}'::jsonb)`);
    const count = (executor: Executor) =>
      queryRows<{ deliveries: number; jobs: number }>(
        executor,
        sql`select (select count(*)::int from webhook_deliveries where endpoint_id = ${hook.id}) as deliveries,
                   (select count(*)::int from jobs where kind = 'webhooks.deliver'
                      and payload->>'deliveryId' in (select id::text from webhook_deliveries)) as jobs`,
      );
    class Rollback extends Error {}
    await db
      .transaction(async (tx) => {
        await record(tx, 'token.released');
        expect(await count(tx)).toEqual([{ deliveries: 1, jobs: 1 }]);
        throw new Rollback();
      })
      .catch((error: unknown) => {
        if (!(error instanceof Rollback)) throw error;
      });
    expect((await count(db))[0]?.deliveries).toBe(0);

    await db.transaction(async (tx) => {
      await record(tx, 'token.leased');
      // A lease entry naming no lease the table holds still commits: the trigger never fails a lease.
      await tx.execute(sql`insert into audit_logs (action, target_type, target_id, metadata)
                           values ('token.leased', 'token', ${randomUUID()}, '{"leaseId":987654321}'::jsonb)`);
      await record(tx, 'auth.login');
      await record(tx, 'token.released');
    });
    const [row] = await queryRows<{ event: string; data: unknown }>(
      db,
      sql`select event, data from webhook_deliveries where endpoint_id = ${hook.id}`,
    );
    expect(row).toEqual({ event: 'token.released', data: { tokenId: expect.any(String), userId: 'u' } });
    const leased = await queryRows<{ data: Record<string, unknown> }>(
      db,
      sql`select data from webhook_deliveries where endpoint_id = ${leasesHook.id} order by created_at, id`,
    );
    expect(
      leased.map((delivery) => delivery.data).sort((a, b) => Object.keys(a).length - Object.keys(b).length),
    ).toEqual([
      { tokenId: expect.any(String), userId: 'u' },
      { tokenId: expect.any(String), fence: 987654321, metadata: null },
    ]);
    expect((await count(db))[0]?.deliveries).toBe(1);
  });
});

describe('an endpoint that fails', () => {
  it('is retried until it recovers, with the same webhook-id, each attempt in the log', async () => {
    // Down for the first two attempts, then up.
    const flaky = await receiver((n) => (n <= 2 ? 503 : 200));
    const harness = await harnessWith({});
    const { register, lease, settled } = await setUp(harness);
    const hook = await register(flaky.url, ['token.leased']);
    const user = randomUUID();
    await lease(user);
    const [delivery] = await settled(hook.id, 1);
    expect(delivery).toMatchObject({
      status: 'delivered',
      attempts: 3,
      lastStatus: 200,
      lastError: null,
      deliveredAt: expect.any(String),
    });
    expect(flaky.received).toHaveLength(3);
    expect(new Set(flaky.received.map((request) => request.headers['webhook-id']))).toEqual(new Set([delivery?.id]));
    expect(flaky.verified(hook.secret).every((event) => event.data.userId === user)).toBe(true);
  });

  it('is given up as failed when its retry window closes, with the last answer, and expiries are delivered too', async () => {
    const down = await receiver(() => 500);
    const harness = await harnessWith({ WEBHOOK_RETRY_SECONDS: '1', TOKEN_TTL_SECONDS: '1' });
    const { register, lease, settled } = await setUp(harness);
    const hook = await register(down.url, ['token.leased', 'token.expired']);
    const user = randomUUID();
    const leased = await lease(user);
    // The sweep closes the lease a second later: that is an event too.
    expect(await down.waitForEvent(hook.secret, (event) => event.type === 'token.expired')).toMatchObject({
      data: { tokenId: leased.tokenId, userId: user, endedAt: expect.any(String) },
    });
    const log = await settled(hook.id, 2);
    for (const delivery of log) {
      expect(delivery).toMatchObject({ status: 'failed', lastStatus: 500, lastError: 'HTTP 500: no body' });
      expect(delivery.attempts).toBeGreaterThan(1);
      expect(delivery.deliveredAt).toBeNull();
    }
  });
});

describe('an endpoint on a private address, without WEBHOOK_ALLOW_PRIVATE', () => {
  it('is never called: the attempt is logged as failed, saying why', async () => {
    const internal = await receiver();
    const harness = await harnessWith({ WEBHOOK_ALLOW_PRIVATE: 'false' });
    const { register, lease, settled } = await setUp(harness);
    // A name passes registration; what it resolves to is checked on connecting.
    const hook = await register(internal.url.replace('127.0.0.1', 'localhost'), ['token.leased']);
    await lease(randomUUID());
    const [delivery] = await settled(hook.id, 1);
    expect(delivery).toMatchObject({ status: 'failed', attempts: 1, lastStatus: null });
    // Only that: how the name resolved inside our network is nobody's business.
    expect(delivery?.lastError).toBe('refused: private address');
    expect(internal.received).toEqual([]);
  });
});
