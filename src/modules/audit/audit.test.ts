import { describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { expectProblem } from '../../../test/helpers/client.js';
import { useHarness } from '../../../test/helpers/harness.js';

const file = useHarness();

type Summary = { id: string; action: string; userId: string | null; createdAt: string };

describe('GET /logs', () => {
  it('shows a user only their own entries, newest first, with what the request carried', async () => {
    const alice = await file.api.signUp();
    const bob = await file.api.signUp();
    await file.api.post('/auth/refresh', { refreshToken: alice.refreshToken });

    const page = (await file.api.get('/logs', alice.accessToken)).json();
    expect(page.data.map((e: Summary) => e.action)).toEqual(['auth.refresh', 'auth.login', 'user.registered']);
    expect(page.data.every((e: Summary) => e.userId === alice.user.id)).toBe(true);
    expect(page.meta).toEqual({ page: 1, pageSize: 10, total: 3, totalPages: 1 });

    expectProblem(await file.api.get(`/logs?userId=${bob.user.id}`, alice.accessToken), 403, 'FORBIDDEN');
    const own = await file.api.get(`/logs?userId=${alice.user.id}&action=auth.login`, alice.accessToken);
    expect(own.json().data.map((e: Summary) => e.action)).toEqual(['auth.login']);
  });

  it('shows an admin every entry, filtered by action and user', async () => {
    const admin = await signInAdmin(file.harness);
    const carol = await file.api.signUp();
    await file.api.post('/auth/login', { email: carol.email, password: 'wrong password' });

    const failed = (
      await file.api.get(`/logs?action=auth.login_failed&userId=${carol.user.id}`, admin.accessToken)
    ).json();
    expect(failed.meta.total).toBe(1);
    expect(failed.data[0]).toMatchObject({ action: 'auth.login_failed', userId: carol.user.id });

    const everything = (await file.api.get('/logs?pageSize=100', admin.accessToken)).json();
    const users = new Set(everything.data.map((e: Summary) => e.userId));
    expect(users.size).toBeGreaterThan(2);
  });

  it('validates its filters', async () => {
    const { accessToken } = await file.api.signUp();
    expectProblem(await file.api.get('/logs?userId=not-a-uuid', accessToken), 400);
    expectProblem(await file.api.get('/logs?pageSize=500', accessToken), 400);
  });
});

describe('GET /logs/:id', () => {
  it('shows the owner and admins the detail, without secrets', async () => {
    const dave = await file.api.signUp();
    const [login] = (await file.api.get('/logs?action=auth.login', dave.accessToken)).json().data;
    const response = await file.harness.app.inject({
      method: 'GET',
      url: `/api/v1/logs/${login.id}`,
      headers: { authorization: `Bearer ${dave.accessToken}`, 'user-agent': 'audit-test/1.0' },
    });
    expect(response.statusCode, response.body).toBe(200);
    const detail = response.json();
    expect(detail).toMatchObject({
      id: login.id,
      action: 'auth.login',
      user: { id: dave.user.id, email: dave.email, name: 'Test User' },
      target: { type: 'session', id: expect.any(String) },
      ip: '127.0.0.1',
      metadata: {},
    });
    expect(JSON.stringify(detail)).not.toMatch(/password|refreshToken|hash/i);

    const admin = await signInAdmin(file.harness);
    expect((await file.api.get(`/logs/${login.id}`, admin.accessToken)).statusCode).toBe(200);
    const stranger = await file.api.signUp();
    expectProblem(await file.api.get(`/logs/${login.id}`, stranger.accessToken), 403);
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    const { accessToken } = await file.api.signUp();
    expectProblem(await file.api.get('/logs/00000000-0000-4000-8000-000000000000', accessToken), 404, 'NOT_FOUND');
    expect(expectProblem(await file.api.get('/logs/42', accessToken), 400).errors?.[0]?.field).toBe('id');
  });

  it('records the user agent and our own request id, never one the caller chose', async () => {
    const email = (await file.api.register()).email;
    await file.harness.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'user-agent': 'curl/8.0', 'x-request-id': 'trace-123' },
      payload: { email, password: 'wrong password' },
    });
    const admin = await signInAdmin(file.harness);
    const [entry] = (await file.api.get('/logs?action=auth.login_failed', admin.accessToken)).json().data;
    const detail = (await file.api.get(`/logs/${entry.id}`, admin.accessToken)).json();
    expect(detail).toMatchObject({
      userAgent: 'curl/8.0',
      requestId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      metadata: { reason: 'wrong_password' },
    });
  });
});
