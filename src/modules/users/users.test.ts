import { beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { expectProblem } from '../../../test/helpers/client.js';
import { useHarness } from '../../../test/helpers/harness.js';

const file = useHarness();
let token: string;
let adminToken: string;
let caller: { id: string; email: string };
const created: string[] = [];

beforeAll(async () => {
  adminToken = (await signInAdmin(file.harness)).accessToken;
  for (let i = 0; i < 12; i += 1) created.push((await file.api.register()).id);
  caller = await file.api.register();
  token = (await file.api.login(caller.email)).accessToken;
});

describe('GET /users/me', () => {
  it('answers the signed-in user', async () => {
    const response = await file.api.get('/users/me', token);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id: caller.id, email: caller.email, role: 'user', birthDate: null });
  });

  it('needs a token', async () => {
    expectProblem(await file.api.get('/users/me'), 401, 'UNAUTHENTICATED');
    expect((await file.api.get('/users/me')).headers['www-authenticate']).toBe('Bearer');
  });
});

describe('GET /users', () => {
  it('is for admins only: e-mail addresses and birth dates are private', async () => {
    expectProblem(await file.api.get('/users', token), 403, 'FORBIDDEN');
  });

  it('pages 10 by default, newest first', async () => {
    const response = await file.api.get('/users', adminToken);
    expect(response.statusCode).toBe(200);
    const { data, meta } = response.json();
    // The admin, then the 12, then the caller.
    expect(meta).toEqual({ page: 1, pageSize: 10, total: 14, totalPages: 2 });
    expect(data).toHaveLength(10);
    // The last user registered (the caller) comes first, then the 12 in reverse order.
    expect(data.slice(1).map((u: { id: string }) => u.id)).toEqual(created.slice(-9).reverse());
  });

  it('answers the last partial page and an empty page past the end', async () => {
    const last = (await file.api.get('/users?page=2', adminToken)).json();
    expect(last.data).toHaveLength(4);
    const past = (await file.api.get('/users?page=3', adminToken)).json();
    expect(past).toEqual({ data: [], meta: { page: 3, pageSize: 10, total: 14, totalPages: 2 } });
    const all = (await file.api.get('/users?pageSize=100', adminToken)).json();
    expect(all.data).toHaveLength(14);
  });

  it('rejects page and pageSize out of range', async () => {
    for (const query of ['page=0', 'pageSize=0', 'pageSize=101', 'page=abc', 'page=1.5']) {
      const problem = expectProblem(await file.api.get(`/users?${query}`, adminToken), 400, 'VALIDATION_FAILED');
      expect(problem.errors?.[0]?.field).toBe(query.split('=')[0]);
    }
  });
});
