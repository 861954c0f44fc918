import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { expectProblem } from '../../../test/helpers/client.js';
import { eventReader } from '../../../test/helpers/event-stream.js';
import { useHarness } from '../../../test/helpers/harness.js';
import { type AnsweredLease, expectPoolInvariants, leasesOf } from '../../../test/helpers/pool-invariants.js';
import { waitFor } from '../../../test/helpers/processes.js';
import { queryRows } from '../../infra/db/database.js';

const POOL = 2;
const TTL_SECONDS = 120;
const file = useHarness({ TOKEN_POOL_SIZE: String(POOL), TOKEN_TTL_SECONDS: String(TTL_SECONDS) });
let admin: { accessToken: string };

/** A lease answer, as far as these tests read it. */
type Lease = AnsweredLease & { evictedUserId: string | null };

let address: string;

beforeAll(async () => {
  admin = await signInAdmin(file.harness);
  address = await file.harness.app.listen({ port: 0, host: '127.0.0.1' });
});

const db = () => file.harness.runtime.database.db;
const leaseFor = (holder: string, body: Record<string, unknown> = {}) =>
  file.api.post('/tokens/lease', { userId: holder, ...body }, admin.accessToken);
const waiting = async () => (await file.api.get('/tokens', admin.accessToken)).json().meta.waiting as number;
const untilWaiting = (count: number) =>
  waitFor(
    async () => (await waiting()) === count,
    10_000,
    () => `the line never held ${count}`,
  );
const release = async (tokenId: string) =>
  expect((await file.api.post(`/tokens/${tokenId}/release`, undefined, admin.accessToken)).statusCode).toBe(200);

/** Clears the pool and fills it with fresh holders' leases; answers them, oldest first. */
async function fullPool(): Promise<Lease[]> {
  expect((await file.api.delete('/tokens/active', admin.accessToken)).statusCode).toBe(200);
  const leases: Lease[] = [];
  for (let i = 0; i < POOL; i += 1) leases.push((await leaseFor(crypto.randomUUID())).json());
  return leases;
}

describe('onFull "wait"', () => {
  it('serves waiters in the order they came, each with a token freed by a release', async () => {
    const [first, second] = await fullPool();
    const [a, b] = [crypto.randomUUID(), crypto.randomUUID()];
    const waitingA = leaseFor(a, { onFull: 'wait', waitSeconds: 20 });
    await untilWaiting(1);
    const waitingB = leaseFor(b, { onFull: 'wait', waitSeconds: 20 });
    await untilWaiting(2);

    await release((second as Lease).tokenId);
    const servedA = await waitingA;
    expect(servedA.statusCode, servedA.body).toBe(201);
    expect(servedA.json()).toMatchObject({ userId: a, tokenId: (second as Lease).tokenId, evictedUserId: null });
    expect(servedA.json().fence).toBeGreaterThan((second as Lease).fence);
    await untilWaiting(1);

    await release((first as Lease).tokenId);
    expect((await waitingB).json()).toMatchObject({ userId: b, tokenId: (first as Lease).tokenId });
    await untilWaiting(0);
    await expectPoolInvariants(db(), POOL, [servedA.json(), (await waitingB).json()]);
  });

  it('serves several waiters at once when a clear frees the pool', async () => {
    await fullPool();
    const holders = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    const asked = [] as Array<ReturnType<typeof leaseFor>>;
    for (const [i, holder] of holders.entries()) {
      asked.push(leaseFor(holder, { onFull: 'wait', waitSeconds: i < POOL ? 20 : 2 }));
      await untilWaiting(i + 1);
    }
    expect((await file.api.delete('/tokens/active', admin.accessToken)).json()).toEqual({ released: POOL });
    const answers = await Promise.all(asked);
    expect(answers.slice(0, POOL).map((answer) => answer.statusCode)).toEqual([201, 201]);
    // The third came last: both freed tokens were the first two's turn, and its time ran out.
    expectProblem(answers[POOL] as (typeof answers)[number], 409, 'POOL_FULL');
    expect(await leasesOf(db(), [holders[POOL] as string])).toBe(0);
  });

  it('answers 409 POOL_FULL with Retry-After once waitSeconds have passed, and leaves the line', async () => {
    await fullPool();
    const started = Date.now();
    const answer = await leaseFor(crypto.randomUUID(), { onFull: 'wait', waitSeconds: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expectProblem(answer, 409, 'POOL_FULL');
    const retryAfter = Number(answer.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(TTL_SECONDS - 30);
    expect(retryAfter).toBeLessThanOrEqual(TTL_SECONDS);
    expect(await waiting()).toBe(0);
  });

  it('takes a free token at once, and answers the same lease to a holder that has one', async () => {
    expect((await file.api.delete('/tokens/active', admin.accessToken)).statusCode).toBe(200);
    const holder = crypto.randomUUID();
    const lease = await leaseFor(holder, { onFull: 'wait' });
    expect(lease.statusCode, lease.body).toBe(201);
    const again = await leaseFor(holder, { onFull: 'wait', waitSeconds: 5 });
    expect(again.statusCode).toBe(200);
    expect(again.json().fence).toBe(lease.json().fence);
  });

  it('never leases to a waiter whose client went away: its place goes to the next', async () => {
    const [first] = await fullPool();
    const gone = crypto.randomUUID();
    const next = crypto.randomUUID();
    const hangUp = new AbortController();
    const abandoned = fetch(`${address}/api/v1/tokens/lease`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userId: gone, onFull: 'wait', waitSeconds: 20 }),
      signal: hangUp.signal,
    }).catch((error: unknown) => error);
    await untilWaiting(1);
    const waitingNext = leaseFor(next, { onFull: 'wait', waitSeconds: 20 });
    await untilWaiting(2);

    hangUp.abort();
    expect(await abandoned).toBeInstanceOf(Error);
    await untilWaiting(1);
    await release((first as Lease).tokenId);
    expect((await waitingNext).json()).toMatchObject({ userId: next, tokenId: (first as Lease).tokenId });
    expect(await leasesOf(db(), [gone])).toBe(0);
  });

  it('announces the length of the line on the pool stream, but not on a stream filtered to a holder', async () => {
    const [first] = await fullPool();
    const follow = async (query: string) => {
      const response = await fetch(`${address}/api/v1/tokens/events${query}`, {
        headers: { authorization: `Bearer ${admin.accessToken}` },
      });
      const events = eventReader(response.body as ReadableStream<Uint8Array>);
      await events.opened();
      return events;
    };
    const everything = await follow('');
    const holders = await follow(`?userId=${(first as Lease).userId}`);
    expectProblem(await leaseFor(crypto.randomUUID(), { onFull: 'wait', waitSeconds: 1 }), 409, 'POOL_FULL');
    const line = await everything.until((message) => message.data === '{"type":"waiting","waiting":0}');
    expect(line.filter((message) => message.event === 'waiting').map((message) => message.data)).toEqual([
      '{"type":"waiting","waiting":1}',
      '{"type":"waiting","waiting":0}',
    ]);
    // The release comes after both: had the line passed the filter, it would have arrived first.
    await release((first as Lease).tokenId);
    const heard = await holders.until((message) => message.event === 'released');
    expect(heard.map((message) => message.event)).toEqual(['released']);
    await everything.close();
    await holders.close();
  });

  it('refuses waitSeconds out of range or without onFull "wait"', async () => {
    const holder = crypto.randomUUID();
    for (const body of [
      { onFull: 'wait', waitSeconds: 0 },
      { onFull: 'wait', waitSeconds: 61 },
    ]) {
      expectProblem(await leaseFor(holder, body), 400, 'VALIDATION_FAILED');
    }
    const alone = expectProblem(await leaseFor(holder, { waitSeconds: 5 }), 400, 'VALIDATION_FAILED');
    expect(alone.errors).toEqual([{ field: 'waitSeconds', message: expect.any(String) }]);
  });
});

describe('tokens promised to waiters', () => {
  /** A waiter of another process that holds its place while this test looks at the pool. */
  async function placeInLine(aliveSeconds: number): Promise<number> {
    const [row] = await queryRows<{ id: number }>(
      db(),
      sql`insert into lease_waiters (holder_id, alive_until)
          values (gen_random_uuid(), clock_timestamp() + make_interval(secs => ${aliveSeconds}))
          returning id::float8 as id`,
    );
    return (row as { id: number }).id;
  }

  it('go to no one else: an evicting request evicts a held lease, a failing one hears POOL_FULL', async () => {
    const [first, second] = await fullPool();
    const waiter = await placeInLine(60);
    await release((first as Lease).tokenId);

    const evicting = (await leaseFor(crypto.randomUUID())).json() as Lease;
    expect(evicting).toMatchObject({ tokenId: (second as Lease).tokenId, evictedUserId: (second as Lease).userId });
    const failing = expectProblem(await leaseFor(crypto.randomUUID(), { onFull: 'fail' }), 409, 'POOL_FULL');
    expect(failing).toBeDefined();

    // With the line gone, the free token is anyone's again.
    await db().execute(sql`delete from lease_waiters where id = ${waiter}`);
    expect((await leaseFor(crypto.randomUUID(), { onFull: 'fail' })).json()).toMatchObject({
      tokenId: (first as Lease).tokenId,
      evictedUserId: null,
    });
    await expectPoolInvariants(db(), POOL);
  });

  it('are free again once the waiting process stopped keeping its place', async () => {
    const [first] = await fullPool();
    await placeInLine(-1);
    await release((first as Lease).tokenId);
    expect(await waiting()).toBe(0);
    expect((await leaseFor(crypto.randomUUID())).json()).toMatchObject({
      tokenId: (first as Lease).tokenId,
      evictedUserId: null,
    });
  });

  it('leave an evicting request nothing to take when every token is free but promised', async () => {
    const [first, second] = await fullPool();
    const line = [await placeInLine(60), await placeInLine(60)];
    await release((first as Lease).tokenId);
    await release((second as Lease).tokenId);
    const answer = expectProblem(await leaseFor(crypto.randomUUID()), 409, 'POOL_FULL');
    expect(answer).toBeDefined();
    await db().execute(sql`delete from lease_waiters where id = any(${`{${line.join(',')}}`}::bigint[])`);
  });
});

describe('shutting down', () => {
  it('answers a waiting request 503 at once rather than holding the shutdown', async () => {
    await fullPool();
    const asked = leaseFor(crypto.randomUUID(), { onFull: 'wait', waitSeconds: 30 });
    await untilWaiting(1);
    const started = Date.now();
    await file.harness.restart();
    expectProblem(await asked, 503, 'UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(10_000);
    const [row] = await queryRows<{ waiting: number }>(
      db(),
      sql`select count(*)::int as waiting from lease_waiters where alive_until > clock_timestamp()`,
    );
    expect(row?.waiting).toBe(0);
  });
});
