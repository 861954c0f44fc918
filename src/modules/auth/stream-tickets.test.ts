import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { expectProblem } from '../../../test/helpers/client.js';
import { useHarness } from '../../../test/helpers/harness.js';
import { createLogger } from '../../infra/logger.js';

const logLines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, callback) {
    logLines.push(chunk.toString());
    callback();
  },
});
const file = useHarness({}, { logger: createLogger('info', sink) });
let address: string;

beforeAll(async () => {
  address = await file.harness.app.listen({ port: 0, host: '127.0.0.1' });
});

async function ticketFor(accessToken: string): Promise<string> {
  const response = await file.api.post('/auth/stream-ticket', undefined, accessToken);
  expect(response.statusCode, response.body).toBe(201);
  expect(response.json().expiresIn).toBe(30);
  return response.json().ticket;
}

/** Opens a stream and reads its first bytes, or answers the refusal. */
async function openStream(path: string, ticket: string): Promise<{ status: number; type: string; first: string }> {
  const controller = new AbortController();
  const response = await fetch(`${address}/api/v1${path}?ticket=${encodeURIComponent(ticket)}`, {
    signal: controller.signal,
  });
  const type = response.headers.get('content-type') ?? '';
  if (response.status !== 200) return { status: response.status, type, first: await response.text() };
  const reader = response.body!.getReader();
  const { value } = await reader.read();
  controller.abort();
  return { status: 200, type, first: new TextDecoder().decode(value) };
}

describe('stream tickets', () => {
  it('are given only to a signed-in caller', async () => {
    expectProblem(await file.api.post('/auth/stream-ticket'), 401);
  });

  it('open one stream once, and stay out of the logs', async () => {
    const user = await file.api.signUp();
    const ticket = await ticketFor(user.accessToken);
    const opened = await openStream('/tokens/events', ticket);
    expect(opened).toMatchObject({ status: 200, type: expect.stringMatching(/^text\/event-stream/) });
    expect(opened.first).toContain(': connected');

    const again = await openStream('/tokens/events', ticket);
    expect(again.status).toBe(401);
    expect(again.type).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(again.first).detail).toMatch(/ticket/);

    const logged = logLines.join('');
    expect(logged).toContain('/api/v1/tokens/events?ticket=[redacted]');
    expect(logged).not.toContain(ticket);
    expect(logged).not.toContain(encodeURIComponent(ticket));
  });

  it('of two requests racing with one ticket, exactly one opens the stream', async () => {
    const user = await file.api.signUp();
    const ticket = await ticketFor(user.accessToken);
    const results = await Promise.all(Array.from({ length: 8 }, () => openStream('/tokens/events', ticket)));
    expect(results.map((result) => result.status).sort()).toEqual([200, 401, 401, 401, 401, 401, 401, 401]);
  });

  it('end with their session and their lifetime', async () => {
    const user = await file.api.signUp();
    const beforeLogout = await ticketFor(user.accessToken);
    expect((await file.api.post('/auth/logout', undefined, user.accessToken)).statusCode).toBe(204);
    expect((await openStream('/tokens/events', beforeLogout)).status).toBe(401);

    const other = await file.api.signUp();
    const stale = await ticketFor(other.accessToken);
    await file.harness.runtime.database.db.execute(
      sql`update stream_tickets set expires_at = now() - interval '1 second'`,
    );
    expect((await openStream('/tokens/events', stale)).status).toBe(401);
    expect((await openStream('/tokens/events', 'not-a-ticket')).status).toBe(401);
  });

  it("keep the route's role: a user's ticket does not open an import's stream", async () => {
    const admin = await signInAdmin(file.harness);
    const user = await file.api.signUp();
    const missing = '00000000-0000-4000-8000-000000000000';
    expect((await openStream(`/users/imports/${missing}/events`, await ticketFor(user.accessToken))).status).toBe(403);
    expect((await openStream(`/users/imports/${missing}/events`, await ticketFor(admin.accessToken))).status).toBe(404);
  });

  it('are not accepted where a route takes only the Authorization header', async () => {
    const user = await file.api.signUp();
    const ticket = await ticketFor(user.accessToken);
    const response = await fetch(`${address}/api/v1/users/me?ticket=${ticket}`);
    expect(response.status).toBe(401);
  });
});
