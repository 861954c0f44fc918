import { describe, expect, it } from 'vitest';
import { type ApiProcesses, sendJson, useApiProcesses } from '../../../test/helpers/api-processes.js';
import { expectProblem, PASSWORD } from '../../../test/helpers/client.js';
import { testEnvironment } from '../../../test/helpers/environment.js';
import { useHarness } from '../../../test/helpers/harness.js';

// Bursts sent all at once: each attempt must be counted before its password is checked, or every
// request of the burst reads the counters while they are still low.
const LIMIT = 10;
const file = useHarness({ LOGIN_RATE_LIMIT: String(LIMIT) });

/** Answers the statuses, sorted; every one not a 429 is a password that was checked. */
const statuses = (responses: Array<{ statusCode: number } | { status: number }>) =>
  responses.map((r) => ('statusCode' in r ? r.statusCode : r.status)).sort();
const checked = (all: number[]) => all.filter((status) => status !== 429).length;

describe('parallel password guesses, in one process', () => {
  it('check at most LOGIN_RATE_LIMIT passwords of 65 logins sent at once from one address', async () => {
    const { email } = await file.api.signUp();
    const burst = await Promise.all(
      Array.from({ length: 65 }, (_, i) =>
        file.harness.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          remoteAddress: '10.9.0.1',
          payload: { email, password: `guess ${i}` },
        }),
      ),
    );
    const all = statuses(burst);
    expect(all.filter((status) => status !== 401 && status !== 429)).toEqual([]);
    expect(checked(all)).toBe(LIMIT);
    // The address is spent on this account; the owner, elsewhere, is not.
    const login = (remoteAddress: string) =>
      file.harness.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress,
        payload: { email, password: PASSWORD },
      });
    expectProblem(await login('10.9.0.1'), 429, 'RATE_LIMITED');
    expect((await login('10.9.0.2')).statusCode).toBe(200);
  });

  it('check at most five current passwords of 40 changes sent at once with one access token', async () => {
    const { accessToken } = await file.api.signUp();
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        file.api.post(
          '/auth/change-password',
          { currentPassword: `guess ${i}`, newPassword: 'stolen at last' },
          accessToken,
        ),
      ),
    );
    const all = statuses(burst);
    expect(all.filter((status) => status !== 400 && status !== 429)).toEqual([]);
    expect(checked(all)).toBe(5);
    expectProblem(
      await file.api.post(
        '/auth/change-password',
        { currentPassword: PASSWORD, newPassword: 'stolen at last' },
        accessToken,
      ),
      429,
      'RATE_LIMITED',
    );
  });

  it('give the slots back when the password was right: the owner logs in past every limit', async () => {
    const { email } = await file.api.signUp();
    // Past the per-address limit (three times LOGIN_RATE_LIMIT) too, had the successes been kept.
    for (let i = 0; i < 3 * LIMIT + 1; i += 1) await file.api.login(email);
  });
});

describe.runIf(testEnvironment.databaseUrl && testEnvironment.redisUrl)(
  'parallel password guesses, across processes',
  () => {
    const processes: ApiProcesses = useApiProcesses(file);

    it('check at most LOGIN_RATE_LIMIT passwords of 65 logins spread over two api processes', async () => {
      const { email } = await file.api.signUp();
      const burst = await Promise.all(
        Array.from({ length: 65 }, (_, i) => {
          const api = processes.apis[i % processes.apis.length] as { url: string };
          return sendJson(api.url, undefined, 'POST', '/auth/login', { email, password: `guess ${i}` });
        }),
      );
      const all = statuses(burst);
      expect(all.filter((status) => status !== 401 && status !== 429)).toEqual([]);
      expect(checked(all)).toBe(LIMIT);
    });
  },
);
