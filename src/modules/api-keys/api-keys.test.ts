import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { expectProblem } from '../../../test/helpers/client.js';
import { useHarness } from '../../../test/helpers/harness.js';
import { queryRows, type Statement } from '../../infra/db/database.js';
import { newApiKey } from './key-format.js';

const context = useHarness();

/** One request to the API as `credential` (an access token or an API key), from `remoteAddress`. */
function call(
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  credential: string,
  options: { body?: unknown; remoteAddress?: string } = {},
) {
  return context.harness.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${credential}` },
    ...(options.body === undefined ? {} : { payload: options.body as object }),
    ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}),
  });
}

interface CreatedKey {
  id: string;
  key: string;
  prefix: string;
  scopes: string[];
  pools: string[] | null;
  ownerId: string;
  expiresAt: string;
  lastUsedAt: string | null;
}

async function makeKey(token: string, body: Record<string, unknown>): Promise<CreatedKey> {
  const response = await call('POST', '/api-keys', token, { body: { name: 'test key', ...body } });
  expect(response.statusCode, response.body).toBe(201);
  return response.json();
}

/** The statements sent through the prepared-statement path while `work` runs, by name. */
async function statementsDuring(work: () => Promise<unknown>): Promise<string[]> {
  const spy = vi.spyOn(context.harness.runtime.database, 'query');
  try {
    await work();
    return spy.mock.calls.map(([statement]) => (statement as Statement).name);
  } finally {
    spy.mockRestore();
  }
}

describe('API keys', () => {
  it('are made shown once, listed without the secret, and act as their owner', async () => {
    const { user, accessToken } = await context.api.signUp();
    const made = await makeKey(accessToken, { scopes: ['tokens:lease', 'tokens:read'] });
    expect(made).toMatchObject({ ownerId: user.id, pools: null, lastUsedAt: null, prefix: made.key.slice(0, 12) });
    expect(made.key).toMatch(/^tp_sk_[0-9A-Za-z]{38}$/);
    const days = (Date.parse(made.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89.9);
    expect(days).toBeLessThanOrEqual(90);

    const lease = await call('POST', '/tokens/lease', made.key, { body: {} });
    expect(lease.statusCode, lease.body).toBe(201);
    expect(lease.json().userId).toBe(user.id);
    expect((await call('POST', `/tokens/${lease.json().tokenId}/release`, made.key)).statusCode).toBe(200);

    const list = await call('GET', '/api-keys', accessToken);
    expect(list.statusCode).toBe(200);
    expect(list.json().meta).toMatchObject({ page: 1, pageSize: 10, total: 1 });
    expect(list.json().data[0]).toMatchObject({ id: made.id, prefix: made.prefix });
    expect(list.json().data[0].lastUsedAt).toEqual(expect.any(String));
    expect(list.body).not.toContain(made.key.slice(12));
    // Another user sees none of them.
    const other = await context.api.signUp();
    expect((await call('GET', '/api-keys', other.accessToken)).json().meta.total).toBe(0);
  });

  it('are refused with 401 UNAUTHENTICATED, before any lookup, when malformed or their checksum fails', async () => {
    const { accessToken } = await context.api.signUp();
    const { key } = await makeKey(accessToken, { scopes: ['tokens:read'] });
    const flipped = `${key.slice(0, 20)}${key[20] === 'a' ? 'b' : 'a'}${key.slice(21)}`;
    for (const bad of [flipped, key.slice(0, -1), 'tp_sk_nonsense']) {
      const names = await statementsDuring(async () => {
        const response = await call('GET', '/tokens', bad);
        expectProblem(response, 401, 'UNAUTHENTICATED');
      });
      expect(names).not.toContain('find_api_key');
    }
    // A well-formed key nobody made is looked up, and unknown.
    const names = await statementsDuring(async () =>
      expectProblem(await call('GET', '/tokens', newApiKey()), 401, 'UNAUTHENTICATED'),
    );
    expect(names).toContain('find_api_key');
  });

  it('answer 403 SCOPE_MISSING naming the scope, and are refused by routes that declare none', async () => {
    const { accessToken } = await context.api.signUp();
    const reader = await makeKey(accessToken, { scopes: ['tokens:read'] });
    expect((await call('GET', '/tokens', reader.key)).statusCode).toBe(200);
    const refused = await call('POST', '/tokens/lease', reader.key, { body: {} });
    const problem = expectProblem(refused, 403, 'SCOPE_MISSING');
    expect(problem).toMatchObject({ scope: 'tokens:lease', detail: expect.stringContaining('tokens:lease') });
    expectProblem(await call('GET', '/logs', reader.key), 403, 'SCOPE_MISSING');
    const counted = await context.harness.runtime.metrics.getSingleMetricAsString('tokenpool_auth_total');
    expect(counted).toMatch(/tokenpool_auth_total\{kind="api_key",outcome="scope_missing"\} [1-9]/);
    expect(counted).toMatch(/tokenpool_auth_total\{kind="api_key",outcome="ok"\} [1-9]/);
    // Keys make no keys, sign nothing out and change no password.
    expectProblem(
      await call('POST', '/api-keys', reader.key, { body: { name: 'x', scopes: ['tokens:read'] } }),
      403,
      'FORBIDDEN',
    );
    expectProblem(await call('POST', '/auth/logout', reader.key), 403, 'FORBIDDEN');
    expectProblem(
      await call('POST', '/auth/change-password', reader.key, { body: { currentPassword: 'x', newPassword: 'y' } }),
      403,
      'FORBIDDEN',
    );
  });

  it('limited to pools other than default are refused on the token routes', async () => {
    const { accessToken } = await context.api.signUp();
    const elsewhere = await makeKey(accessToken, { scopes: ['tokens:read'], pools: ['gpu'] });
    expectProblem(await call('GET', '/tokens', elsewhere.key), 403, 'FORBIDDEN');
    const withDefault = await makeKey(accessToken, { scopes: ['tokens:read'], pools: ['gpu', 'default'] });
    expect(withDefault.pools).toEqual(['gpu', 'default']);
    expect((await call('GET', '/tokens', withDefault.key)).statusCode).toBe(200);
    expectProblem(
      await call('POST', '/api-keys', accessToken, {
        body: { name: 'x', scopes: ['tokens:read'], pools: ['Bad_Pool'] },
      }),
      400,
    );
  });

  it('never exceed their owner: a user may not hold admin scopes nor make keys for others', async () => {
    const { accessToken } = await context.api.signUp();
    const other = await context.api.signUp();
    for (const scope of ['pools:admin', 'users:read', 'imports:write']) {
      const response = await call('POST', '/api-keys', accessToken, { body: { name: 'x', scopes: [scope] } });
      expectProblem(response, 403, 'FORBIDDEN');
    }
    const forOther = await call('POST', '/api-keys', accessToken, {
      body: { name: 'x', scopes: ['tokens:read'], ownerId: other.user.id },
    });
    expectProblem(forOther, 403, 'FORBIDDEN');
    // Nor does a user's key with a user's scopes reach an admin route.
    const key = await makeKey(accessToken, { scopes: ['tokens:lease', 'audit:read'] });
    expectProblem(await call('DELETE', '/tokens/active', key.key), 403);
  });

  it('of an admin, without pools:admin, lease only for their owner', async () => {
    const admin = await signInAdmin(context.harness);
    const { key } = await makeKey(admin.accessToken, { scopes: ['tokens:lease'] });
    const someone = await context.api.signUp();
    const forSomeone = await call('POST', '/tokens/lease', key, { body: { userId: someone.user.id } });
    expectProblem(forSomeone, 403);
  });

  it('stop at once when revoked, with 401 API_KEY_REVOKED; only owner or admin may revoke', async () => {
    const { accessToken } = await context.api.signUp();
    const made = await makeKey(accessToken, { scopes: ['tokens:read'] });
    const stranger = await context.api.signUp();
    expectProblem(await call('DELETE', `/api-keys/${made.id}`, stranger.accessToken), 404, 'NOT_FOUND');
    expect((await call('GET', '/tokens', made.key)).statusCode).toBe(200);
    expect((await call('DELETE', `/api-keys/${made.id}`, accessToken)).statusCode).toBe(204);
    expectProblem(await call('GET', '/tokens', made.key), 401, 'API_KEY_REVOKED');
    expectProblem(await call('DELETE', `/api-keys/${made.id}`, accessToken), 404, 'NOT_FOUND');
    expect((await call('GET', '/api-keys', accessToken)).json().meta.total).toBe(0);
  });

  it('rotate: the old key works during the overlap, then answers API_KEY_EXPIRED', async () => {
    const { accessToken } = await context.api.signUp();
    const old = await makeKey(accessToken, { scopes: ['tokens:read'], pools: ['default'], expiresInDays: 7 });
    const rotated = await call('POST', `/api-keys/${old.id}/rotate`, accessToken, { body: { overlapSeconds: 1 } });
    expect(rotated.statusCode, rotated.body).toBe(201);
    const fresh = rotated.json() as CreatedKey;
    expect(fresh).toMatchObject({ scopes: ['tokens:read'], pools: ['default'], ownerId: old.ownerId });
    expect(fresh.key).not.toBe(old.key);
    expect(Date.parse(fresh.expiresAt) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    expect((await call('GET', '/tokens', old.key)).statusCode).toBe(200);
    expect((await call('GET', '/tokens', fresh.key)).statusCode).toBe(200);
    await sleep(1200);
    expectProblem(await call('GET', '/tokens', old.key), 401, 'API_KEY_EXPIRED');
    expect((await call('GET', '/tokens', fresh.key)).statusCode).toBe(200);
  });

  it('write lastUsedAt at most once a minute', async () => {
    const { accessToken } = await context.api.signUp();
    const made = await makeKey(accessToken, { scopes: ['tokens:read'] });
    const names = await statementsDuring(async () => {
      expect((await call('GET', '/tokens', made.key)).statusCode).toBe(200);
      expect((await call('GET', '/tokens', made.key)).statusCode).toBe(200);
    });
    expect(names.filter((name) => name === 'record_api_key_use')).toHaveLength(1);
    const [listed] = (await call('GET', '/api-keys', accessToken)).json().data;
    expect(Date.now() - Date.parse(listed.lastUsedAt)).toBeLessThan(60_000);
  });

  it('are audited without their secret', async () => {
    const { user, accessToken } = await context.api.signUp();
    const made = await makeKey(accessToken, { scopes: ['tokens:read'] });
    const rotated = (await call('POST', `/api-keys/${made.id}/rotate`, accessToken, { body: {} })).json() as CreatedKey;
    expect((await call('DELETE', `/api-keys/${rotated.id}`, accessToken)).statusCode).toBe(204);
    const rows = await queryRows<{ action: string; metadata: unknown }>(
      context.harness.runtime.database.db,
      sql`select action, metadata from audit_logs where user_id = ${user.id} and action like 'api_key.%' order by created_at`,
    );
    expect(rows.map((row) => row.action)).toEqual(['api_key.created', 'api_key.rotated', 'api_key.revoked']);
    const text = JSON.stringify(rows);
    for (const secret of [made.key, rotated.key]) {
      expect(text).not.toContain(secret.slice(12));
    }
    expect(text).toContain(made.prefix);
  });
});

describe('service accounts', () => {
  it('are made by admins, listed with their kind, and lease with a key an admin made for them', async () => {
    const admin = await signInAdmin(context.harness);
    const someone = await context.api.signUp();
    expectProblem(
      await call('POST', '/service-accounts', someone.accessToken, { body: { name: 'ci', role: 'user' } }),
      403,
    );

    const response = await call('POST', '/service-accounts', admin.accessToken, { body: { name: 'ci', role: 'user' } });
    expect(response.statusCode, response.body).toBe(201);
    const account = response.json();
    expect(account).toEqual({
      id: expect.any(String),
      name: 'ci',
      role: 'user',
      kind: 'service',
      createdAt: expect.any(String),
    });

    const users = await call('GET', '/users?pageSize=100', admin.accessToken);
    expect(users.json().data).toContainEqual(expect.objectContaining({ id: account.id, kind: 'service', email: null }));

    // A user's role bounds its keys, whoever makes them.
    const tooMuch = await call('POST', '/api-keys', admin.accessToken, {
      body: { name: 'x', scopes: ['users:read'], ownerId: account.id },
    });
    expectProblem(tooMuch, 403, 'FORBIDDEN');
    const made = await makeKey(admin.accessToken, { scopes: ['tokens:lease'], ownerId: account.id });
    expect(made.ownerId).toBe(account.id);
    const lease = await call('POST', '/tokens/lease', made.key, { body: {} });
    expect(lease.statusCode, lease.body).toBe(201);
    expect(lease.json().userId).toBe(account.id);

    // An admin service account's key reads users with users:read.
    const ops = (
      await call('POST', '/service-accounts', admin.accessToken, { body: { name: 'ops', role: 'admin' } })
    ).json();
    const reader = await makeKey(admin.accessToken, { scopes: ['users:read'], ownerId: ops.id });
    expect((await call('GET', '/users', reader.key)).statusCode).toBe(200);
    expectProblem(await call('GET', '/tokens', reader.key), 403, 'SCOPE_MISSING');

    const audit = await queryRows<{ action: string }>(
      context.harness.runtime.database.db,
      sql`select action from audit_logs where target_id = ${account.id} and action = 'service_account.created'`,
    );
    expect(audit).toHaveLength(1);
  });

  it('cannot sign in: they have no e-mail nor password, which the database holds them to', async () => {
    const admin = await signInAdmin(context.harness);
    const account = (
      await call('POST', '/service-accounts', admin.accessToken, { body: { name: 'bot', role: 'user' } })
    ).json();
    const { db } = context.harness.runtime.database;
    await expect(
      db.execute(sql`update users set password_hash = 'x', email = 'bot@example.com' where id = ${account.id}`),
    ).rejects.toThrow();
    await expect(db.execute(sql`update users set email = null where kind = 'person'`)).rejects.toThrow();
    const login = await context.harness.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'bot@example.com', password: 'correct horse battery' },
    });
    expectProblem(login, 401, 'INVALID_CREDENTIALS');
  });
});

describe('failed key checks', () => {
  const limited = useHarness({ AUTH_RATE_LIMIT: '5' });

  it('are limited per IP: a burst past the limit is answered 429, then the address is refused before any lookup', async () => {
    const { accessToken } = await limited.api.signUp();
    const made = await limited.harness.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: { authorization: `Bearer ${accessToken}` },
      payload: { name: 'good', scopes: ['tokens:read'] },
    });
    const { key } = made.json() as CreatedKey;
    const from = (credential: string, remoteAddress: string) =>
      limited.harness.app.inject({
        method: 'GET',
        url: '/api/v1/tokens',
        headers: { authorization: `Bearer ${credential}` },
        remoteAddress,
      });
    const attacker = '203.0.113.7';
    const guesses = await Promise.all(Array.from({ length: 8 }, () => from(newApiKey(), attacker)));
    expect(guesses.map((response) => response.statusCode).sort()).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    expectProblem(await from(key, attacker), 429, 'RATE_LIMITED');
    expect((await from(key, '198.51.100.9')).statusCode).toBe(200);
    // Successes are not counted, however many a service sends at once.
    for (let i = 0; i < 6; i += 1) expect((await from(key, '198.51.100.10')).statusCode).toBe(200);
    const burst = await Promise.all(Array.from({ length: 20 }, () => from(key, '198.51.100.11')));
    expect(burst.map((response) => response.statusCode)).toEqual(Array(20).fill(200));
  });
});
