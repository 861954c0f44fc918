import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { expectProblem } from '../../../test/helpers/client.js';
import { useHarness } from '../../../test/helpers/harness.js';
import { queryRows } from '../../infra/db/database.js';

// The routes only: nothing here is delivered (no workers), and private addresses stay refused.
const file = useHarness({}, { workers: false });
let admin: { accessToken: string };

beforeAll(async () => {
  admin = await signInAdmin(file.harness);
});

// Longer than the 2,048 characters a URL may have.
const LONG_URL = `https://hooks.example.com/${'a'.repeat(2048)}`;

const create = (body: unknown, token = admin.accessToken) => file.api.post('/webhooks', body, token);

describe('registering webhooks', () => {
  it('answers 201 with the secret once, then lists the endpoint without it, newest first', async () => {
    const first = await create({ url: 'https://hooks.example.com/a', description: 'Ops channel' });
    expect(first.statusCode, first.body).toBe(201);
    const created = first.json();
    expect(created).toEqual({
      id: expect.any(String),
      url: 'https://hooks.example.com/a',
      events: ['token.leased', 'token.released', 'token.expired', 'token.evicted', 'tokens.cleared'],
      description: 'Ops channel',
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      createdAt: expect.any(String),
    });
    const second = (await create({ url: 'http://hooks.example.com/b', events: ['token.evicted'] })).json();
    expect(second).toMatchObject({ events: ['token.evicted'], description: null });
    expect(second.secret).not.toBe(created.secret);

    const page = await file.api.get('/webhooks?pageSize=1', admin.accessToken);
    expect(page.statusCode).toBe(200);
    expect(page.json()).toEqual({
      data: [
        { id: second.id, url: second.url, events: ['token.evicted'], description: null, createdAt: second.createdAt },
      ],
      meta: { page: 1, pageSize: 1, total: 2, totalPages: 2 },
    });
    expect(page.body).not.toContain('whsec_');
  });

  it('records who created and deleted an endpoint, never its secret nor its path', async () => {
    const created = (await create({ url: 'https://hooks.example.com/services/key-in-the-path' })).json();
    expect((await file.api.delete(`/webhooks/${created.id}`, admin.accessToken)).statusCode).toBe(204);
    const rows = await queryRows<{ action: string; metadata: unknown }>(
      file.harness.runtime.database.db,
      sql`select action, metadata from audit_logs where target_type = 'webhook' and target_id = ${created.id}
          order by created_at, action`,
    );
    expect(rows.map((row) => row.action)).toEqual(['webhook.created', 'webhook.deleted']);
    expect(rows[0]?.metadata).toEqual({ host: 'hooks.example.com', events: created.events });
    expect(JSON.stringify(rows)).not.toContain(created.secret.slice(6));
    expect(JSON.stringify(rows)).not.toContain('key-in-the-path');
  });

  it('deletes with 204, then no longer lists it nor its deliveries (404)', async () => {
    const created = (await create({ url: 'https://hooks.example.com/gone' })).json();
    expect((await file.api.get(`/webhooks/${created.id}/deliveries`, admin.accessToken)).json()).toEqual({
      data: [],
      meta: { page: 1, pageSize: 10, total: 0, totalPages: 0 },
    });
    expect((await file.api.delete(`/webhooks/${created.id}`, admin.accessToken)).statusCode).toBe(204);
    expectProblem(await file.api.delete(`/webhooks/${created.id}`, admin.accessToken), 404, 'NOT_FOUND');
    expectProblem(await file.api.get(`/webhooks/${created.id}/deliveries`, admin.accessToken), 404, 'NOT_FOUND');
    const listed = (await file.api.get('/webhooks?pageSize=100', admin.accessToken)).json().data as Array<{
      id: string;
    }>;
    expect(listed.map((endpoint) => endpoint.id)).not.toContain(created.id);
  });

  it('is for admins only', async () => {
    const user = await file.api.signUp();
    const id = '00000000-0000-4000-8000-000000000000';
    expectProblem(await create({ url: 'https://hooks.example.com/' }, user.accessToken), 403, 'FORBIDDEN');
    expectProblem(await file.api.get('/webhooks', user.accessToken), 403, 'FORBIDDEN');
    expectProblem(await file.api.delete(`/webhooks/${id}`, user.accessToken), 403, 'FORBIDDEN');
    expectProblem(await file.api.get(`/webhooks/${id}/deliveries`, user.accessToken), 403, 'FORBIDDEN');
    expectProblem(await file.api.post('/webhooks', { url: 'https://hooks.example.com/' }), 401, 'UNAUTHENTICATED');
    expectProblem(await file.api.get('/webhooks'), 401, 'UNAUTHENTICATED');
  });

  it.each([
    [{}, 'url'],
    [{ url: 'not a url' }, 'url'],
    [{ url: 'ftp://hooks.example.com/' }, 'url'],
    [{ url: 'javascript:alert(1)' }, 'url'],
    [{ url: 'https://user:pass@hooks.example.com/' }, 'url'],
    [{ url: 'https://token@hooks.example.com/' }, 'url'],
    [{ url: LONG_URL }, 'url'],
    [{ url: 'http://127.0.0.1:8080/' }, 'url'],
    [{ url: 'http://[::1]/' }, 'url'],
    [{ url: 'http://10.0.0.5/' }, 'url'],
    [{ url: 'http://169.254.169.254/latest/meta-data' }, 'url'],
    [{ url: 'https://hooks.example.com/', events: [] }, 'events'],
    [{ url: 'https://hooks.example.com/', events: ['token.stolen'] }, 'events'],
    [{ url: 'https://hooks.example.com/', events: ['token.leased', 'token.leased'] }, 'events'],
    [{ url: 'https://hooks.example.com/', description: 'x'.repeat(201) }, 'description'],
  ])('refuses %j as a 400 problem naming the field', async (body, field) => {
    const problem = expectProblem(await create(body), 400, 'VALIDATION_FAILED');
    expect(problem.errors?.map((error) => error.field).join(' ')).toContain(field);
  });

  it('keeps at most 20 endpoints: the next one is a 409 problem until one is deleted', async () => {
    const live = (await file.api.get('/webhooks', admin.accessToken)).json().meta.total as number;
    const made: Array<{ id: string }> = [];
    for (let i = live; i < 20; i += 1) made.push((await create({ url: `https://hooks.example.com/${i}` })).json());
    expectProblem(await create({ url: 'https://hooks.example.com/one-too-many' }), 409, 'WEBHOOK_LIMIT_REACHED');
    expect((await file.api.delete(`/webhooks/${made[0]?.id}`, admin.accessToken)).statusCode).toBe(204);
    expect((await create({ url: 'https://hooks.example.com/room-again' })).statusCode).toBe(201);
  });

  it('answers 400 for an id that is not a UUID and for a bad page', async () => {
    expectProblem(await file.api.delete('/webhooks/42', admin.accessToken), 400, 'VALIDATION_FAILED');
    expectProblem(await file.api.get('/webhooks?pageSize=101', admin.accessToken), 400, 'VALIDATION_FAILED');
  });
});
