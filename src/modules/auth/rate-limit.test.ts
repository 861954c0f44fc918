import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, expectProblem, PASSWORD, uniqueEmail } from '../../../test/helpers/client.js';
import { type Harness, startHarness } from '../../../test/helpers/harness.js';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ LOGIN_RATE_LIMIT: '3' });
});
afterAll(() => harness.close());

function login(email: string, ip: string) {
  return harness.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    remoteAddress: ip,
    payload: { email, password: 'wrong password' },
  });
}

describe('login rate limit', () => {
  it('refuses the attempt after LOGIN_RATE_LIMIT from one IP, with Retry-After', async () => {
    const ip = '10.0.0.1';
    for (let i = 0; i < 3; i += 1) expect((await login(uniqueEmail(), ip)).statusCode).toBe(401);
    const refused = await login(uniqueEmail(), ip);
    expectProblem(refused, 429, 'RATE_LIMITED');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('refuses the attempt after LOGIN_RATE_LIMIT on one e-mail, from any IP', async () => {
    const email = uniqueEmail();
    await client(harness.app).register(email);
    for (let i = 0; i < 3; i += 1) expect((await login(email, `10.0.1.${i}`)).statusCode).toBe(401);
    expectProblem(await login(email, '10.0.1.99'), 429);
    // Even the right password waits now: the limit protects the account, not just the guesser.
    const right = await harness.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: '10.0.1.100',
      payload: { email, password: PASSWORD },
    });
    expectProblem(right, 429);
  });

  it('limits forgot-password the same way', async () => {
    const email = uniqueEmail();
    const forgot = () =>
      harness.app.inject({
        method: 'POST',
        url: '/api/v1/auth/forgot-password',
        remoteAddress: '10.0.2.1',
        payload: { email },
      });
    for (let i = 0; i < 3; i += 1) expect((await forgot()).statusCode).toBe(202);
    expectProblem(await forgot(), 429);
  });
});
