import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { queryRows } from '../src/infra/db/database.js';
import { useApiProcesses } from './helpers/api-processes.js';
import { testEnvironment } from './helpers/environment.js';
import { eventReader } from './helpers/event-stream.js';
import { useHarness } from './helpers/harness.js';
import { type AnsweredLease, expectPoolInvariants } from './helpers/pool-invariants.js';
import type { ServiceProcess } from './helpers/processes.js';

const POOL = 10;

describe.runIf(testEnvironment.databaseUrl && testEnvironment.redisUrl)('the pool across api processes', () => {
  const block = useHarness({ TOKEN_POOL_SIZE: String(POOL) });
  const running = useApiProcesses(block);

  const lease = (api: ServiceProcess, userId: string) =>
    fetch(`${api.url}/api/v1/tokens/lease`, {
      method: 'POST',
      headers: { authorization: `Bearer ${running.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userId }),
    });

  it('answers 1,000 concurrent leases on a pool of 10 from two processes, each with a lease in the history', async () => {
    const responses = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => lease(running.apis[i % 2] as ServiceProcess, crypto.randomUUID())),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status !== 201)).toEqual([]);
    const leases = (await Promise.all(responses.map((response) => response.json()))) as AnsweredLease[];
    await expectPoolInvariants(block.harness.runtime.database.db, POOL, leases);
    // Evictions chain: all but the last POOL leases were evicted by a later one.
    const evicted = new Set(leases.map((l) => (l as AnsweredLease & { evictedUserId: string | null }).evictedUserId));
    evicted.delete(null);
    expect(evicted.size).toBeGreaterThanOrEqual(1000 - 2 * POOL);

    // Fences: each answer's is its lease in the history, and on every token each lease's fence is
    // greater than the one before it.
    const history = await queryRows<{ id: number; tokenId: string; userId: string; endReason: string | null }>(
      block.harness.runtime.database.db,
      sql`select id::float8 as id, token_id as "tokenId", user_id as "userId", end_reason as "endReason"
          from token_leases order by token_id, leased_at, id`,
    );
    const byFence = new Map(history.map((row) => [row.id, row]));
    for (const answer of leases) {
      expect(byFence.get(answer.fence)).toMatchObject({ tokenId: answer.tokenId, userId: answer.userId });
    }
    expect(new Set(leases.map((answer) => answer.fence)).size).toBe(1000);
    for (const [i, row] of history.entries()) {
      const previous = history[i - 1];
      if (previous?.tokenId === row.tokenId) expect(row.id).toBeGreaterThan(previous.id);
    }
    // validate agrees with the history for every one of them, asked of either process, 50 at a time.
    const validations = [];
    for (let from = 0; from < leases.length; from += 50) {
      const chunk = leases.slice(from, from + 50).map(async (answer, i) => {
        const api = running.apis[(from + i) % 2] as ServiceProcess;
        const query = `userId=${answer.userId}&fence=${answer.fence}`;
        const response = await fetch(`${api.url}/api/v1/tokens/${answer.tokenId}/validate?${query}`, {
          headers: { authorization: `Bearer ${running.adminToken}` },
        });
        return { answer, validation: await response.json() };
      });
      validations.push(...(await Promise.all(chunk)));
    }
    for (const { answer, validation } of validations) {
      const ended = (byFence.get(answer.fence) as { endReason: string | null }).endReason;
      expect(validation).toEqual(
        ended ? { valid: false, reason: ended } : { valid: true, expiresAt: answer.expiresAt },
      );
    }
  });

  it('streams a lease made in one process to a subscriber of the other', async () => {
    const [a, b] = running.apis as [ServiceProcess, ServiceProcess];
    const abort = new AbortController();
    const stream = await fetch(`${b.url}/api/v1/tokens/events`, {
      headers: { authorization: `Bearer ${running.adminToken}` },
      signal: abort.signal,
    });
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = eventReader(stream.body as ReadableStream<Uint8Array>);
    await events.opened();
    const holder = crypto.randomUUID();
    const leased = (await (await lease(a, holder)).json()) as AnsweredLease;
    // The eviction names the new holder too, and comes first: read on until its lease arrives.
    const received = await events.until(
      (message) => message.event === 'leased' && JSON.parse(message.data).userId === holder,
    );
    abort.abort();
    expect(received).toContainEqual({
      event: 'leased',
      data: expect.stringContaining(`"tokenId":"${leased.tokenId}"`),
    });
    expect(received.map((message) => message.event)).toContain('evicted');
  });

  it('ends a stream in one process within two seconds of its session ending in the other', async () => {
    const [a, b] = running.apis as [ServiceProcess, ServiceProcess];
    const user = await block.api.signUp();
    const stream = await fetch(`${b.url}/api/v1/tokens/events`, {
      headers: { authorization: `Bearer ${user.accessToken}` },
    });
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    const logout = await fetch(`${a.url}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.accessToken}` },
    });
    expect(logout.status).toBe(204);
    const loggedOutAt = Date.now();
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
    expect(Date.now() - loggedOutAt).toBeLessThan(2500);
  });

  it('finishes the leases in flight when a process is stopped, and loses none', async () => {
    const victim = running.apis[0] as ServiceProcess;
    const inFlight = Array.from({ length: 200 }, () =>
      lease(victim, crypto.randomUUID()).then(
        async (response) => ({ status: response.status, body: (await response.json()) as AnsweredLease }),
        () => ({ status: 0, body: undefined as AnsweredLease | undefined }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    const exitCode = await victim.stop('SIGTERM');
    const answers = await Promise.all(inFlight);
    expect(exitCode).toBe(0);
    const answered = answers.filter((a) => a.status !== 0);
    expect(answered.length).toBeGreaterThan(0);
    expect(answered.filter((a) => a.status !== 201).map((a) => [a.status, a.body])).toEqual([]);
    await expectPoolInvariants(
      block.harness.runtime.database.db,
      POOL,
      answered.map((a) => a.body as AnsweredLease),
    );
  });
});
