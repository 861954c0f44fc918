import { describe, expect, it } from 'vitest';
import { sendJson, useApiProcesses } from './helpers/api-processes.js';
import { testEnvironment } from './helpers/environment.js';
import { useHarness } from './helpers/harness.js';
import type { LeaseAnswerBody, PoolAnswer } from './helpers/pool-checker.js';
import { expectPoolInvariants, leasesOf } from './helpers/pool-invariants.js';
import { expectPoolHistoryHolds, scopeMark } from './helpers/pool-scenarios.js';
import { type ServiceProcess, startProcess, waitFor } from './helpers/processes.js';

// Waiting for a token across two `api` processes on one PostgreSQL: the line is in the database,
// and each process claims only for the requests it holds.

const POOL = 3;
const TTL_SECONDS = 60;

interface Answer {
  status: number;
  body: LeaseAnswerBody & { fence: number };
}

describe.runIf(testEnvironment.databaseUrl)('waiting for a token through two api processes', () => {
  const file = useHarness({ TOKEN_POOL_SIZE: String(POOL), TOKEN_TTL_SECONDS: String(TTL_SECONDS) });
  const running = useApiProcesses(file);
  const api = (i: number) => (running.apis[i % 2] as ServiceProcess).url;

  const db = () => file.harness.runtime.database.db;
  const send = <T = unknown>(url: string, method: 'POST' | 'DELETE' | 'GET', path: string, body?: unknown) =>
    sendJson<T>(url, running.adminToken, method, path, body);
  const lease = (url: string, body: Record<string, unknown>): Promise<Answer> =>
    send<Answer['body']>(url, 'POST', '/tokens/lease', body);
  const release = async (tokenId: string) =>
    expect((await send(api(0), 'POST', `/tokens/${tokenId}/release`)).status).toBe(200);
  const untilWaiting = (count: number) =>
    waitFor(
      async () => (await send<{ meta: { waiting: number } }>(api(1), 'GET', '/tokens')).body.meta.waiting === count,
      10_000,
      () => `the line never held ${count}`,
    );
  async function fullPool(): Promise<Answer['body'][]> {
    expect((await send(api(0), 'DELETE', '/tokens/active')).status).toBe(200);
    const held = [];
    for (let i = 0; i < POOL; i += 1) {
      held.push((await lease(api(i), { userId: crypto.randomUUID() })).body);
    }
    return held;
  }

  it('serves waiters spread over both processes in the order they came, one freed token at a time', async () => {
    const held = await fullPool();
    const holders = Array.from({ length: 6 }, () => crypto.randomUUID());
    const asked: Array<Promise<{ index: number; answer: Answer }>> = [];
    for (const [index, holder] of holders.entries()) {
      const url = api(index);
      asked.push(lease(url, { userId: holder, onFull: 'wait', waitSeconds: 45 }).then((answer) => ({ index, answer })));
      await untilWaiting(index + 1);
    }

    // Each release frees one token: the first in line gets it, whichever process holds it.
    const order: number[] = [];
    const toFree = held.map((lease) => lease.tokenId);
    const pending = new Map(asked.map((answer, index) => [index, answer]));
    for (let round = 0; round < holders.length; round += 1) {
      await release(toFree[round] as string);
      const { index, answer } = await Promise.race(pending.values());
      pending.delete(index);
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      expect(answer.body.userId).toBe(holders[index]);
      order.push(index);
      toFree.push(answer.body.tokenId);
      await untilWaiting(holders.length - round - 1);
    }
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    const fences = (await Promise.all(asked)).map(({ answer }) => answer.body.fence);
    expect(fences).toEqual([...fences].sort((a, b) => a - b));
    await expectPoolInvariants(db(), POOL);
  });

  it('skips the place of a waiter whose process was killed, once it lapses', { timeout: 60_000 }, async () => {
    const held = await fullPool();
    const doomed = await startProcess('api', { ...file.harness.env, LOG_LEVEL: 'warn' });
    const [lost, next] = [crypto.randomUUID(), crypto.randomUUID()];
    const lostAnswer = lease(doomed.url, { userId: lost, onFull: 'wait', waitSeconds: 45 }).catch((error) => error);
    await untilWaiting(1);
    const nextAnswer = lease(api(0), { userId: next, onFull: 'wait', waitSeconds: 45 });
    await untilWaiting(2);

    await doomed.stop('SIGKILL');
    expect(await lostAnswer).toBeInstanceOf(Error);
    await release((held[0] as Answer['body']).tokenId);
    // The killed process's place holds the token back until it lapses (10 s after its last claim).
    const served = await nextAnswer;
    expect(served.status).toBe(201);
    expect(served.body).toMatchObject({ userId: next, tokenId: (held[0] as Answer['body']).tokenId });
    expect(await leasesOf(db(), [lost])).toBe(0);
  });

  it('keeps every rule of the pool when waiters, evictors, failing requests and releases race', async () => {
    await fullPool();
    const mark = await scopeMark(db());
    const kinds = ['evict', 'wait', 'fail'] as const;
    const requests = Array.from({ length: 60 }, (_, i) => ({ kind: kinds[i % 3], holder: crypto.randomUUID(), i }));
    const asked = Promise.all(
      requests.map(({ kind, holder, i }) =>
        lease(api(i), { userId: holder, onFull: kind, ...(kind === 'wait' ? { waitSeconds: 5 } : {}) }),
      ),
    );
    // Meanwhile, for two seconds, whatever is held is released again and again, through both processes.
    const releases: PoolAnswer[] = [];
    for (let wave = 0; wave < 20; wave += 1) {
      const active = (await send<{ data: Array<{ id: string }> }>(api(wave), 'GET', '/tokens?status=active')).body.data;
      const answers = await Promise.all(
        active.map((held, i) =>
          send<{ userId: string; endedAt: string }>(api(wave + i), 'POST', `/tokens/${held.id}/release`),
        ),
      );
      for (const [i, answer] of answers.entries()) {
        expect([200, 409]).toContain(answer.status);
        releases.push({ kind: 'release', tokenId: (active[i] as { id: string }).id, ...answer });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const answers = await asked;

    const tally = (kind: string, status: number) =>
      answers.filter((answer, i) => requests[i]?.kind === kind && answer.status === status).length;
    for (const [i, answer] of answers.entries()) {
      expect([200, 201, 409], `${requests[i]?.kind}: ${JSON.stringify(answer.body)}`).toContain(answer.status);
    }
    expect(tally('wait', 201)).toBeGreaterThan(0);
    expect(tally('evict', 201)).toBeGreaterThan(0);
    const served = answers.filter((answer) => answer.status === 201);
    await expectPoolInvariants(
      db(),
      POOL,
      served.map((answer) => answer.body),
    );

    // Every lease made in the race was answered to the request that asked for it, no eviction took
    // a token that was free and not promised to a waiter, the oldest lease was the one evicted, and
    // every release answered is in the history.
    const leaseAnswers: PoolAnswer[] = answers.flatMap((answer, i) =>
      answer.status === 201 ? [{ kind: 'lease', userId: requests[i]?.holder as string, ...answer }] : [],
    );
    await expectPoolHistoryHolds(
      { db: db(), ttlSeconds: TTL_SECONDS },
      [...leaseAnswers, ...releases],
      mark,
      new Set(requests.filter((r) => r.kind === 'wait').map((r) => r.holder)),
    );
    // A request refused has no lease, and the line is empty again.
    const refused = answers.flatMap((answer, i) => (answer.status === 409 ? [requests[i]?.holder as string] : []));
    expect(await leasesOf(db(), refused)).toBe(0);
    await untilWaiting(0);
  });
});
