import { describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { expectProblem, PASSWORD, uniqueEmail } from '../../../test/helpers/client.js';
import { useHarness } from '../../../test/helpers/harness.js';

const LIMIT = 3;
const PER_IP = 12;
const file = useHarness({
  LOGIN_RATE_LIMIT: String(LIMIT),
  AUTH_RATE_LIMIT: String(PER_IP),
  REGISTER_RATE_LIMIT: String(PER_IP),
});

function login(email: string, ip: string, password = 'wrong password') {
  return file.harness.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    remoteAddress: ip,
    payload: { email, password },
  });
}

async function registered(): Promise<string> {
  const email = uniqueEmail();
  await file.api.register(email);
  return email;
}

describe('login limits that cannot be turned against the owner', () => {
  it('refuses an address after LOGIN_RATE_LIMIT failures on one e-mail, with Retry-After', async () => {
    const email = await registered();
    for (let i = 0; i < LIMIT; i += 1) expect((await login(email, '10.0.0.1')).statusCode).toBe(401);
    const refused = await login(email, '10.0.0.1', PASSWORD);
    expectProblem(refused, 429, 'RATE_LIMITED');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
  });

  it('lets the owner in from another address, whatever failures one address piled up', async () => {
    const email = await registered();
    for (let i = 0; i < LIMIT + 2; i += 1) await login(email, '10.0.1.1');
    expectProblem(await login(email, '10.0.1.1'), 429);
    expect((await login(email, '10.0.1.2', PASSWORD)).statusCode).toBe(200);
  });

  it('forgets the failures of an address on an account once the right password comes from it', async () => {
    const email = await registered();
    for (let i = 0; i < LIMIT - 1; i += 1) expect((await login(email, '10.0.2.1')).statusCode).toBe(401);
    expect((await login(email, '10.0.2.1', PASSWORD)).statusCode).toBe(200);
    for (let i = 0; i < LIMIT; i += 1) expect((await login(email, '10.0.2.1')).statusCode).toBe(401);
    expectProblem(await login(email, '10.0.2.1'), 429);
  });

  it('refuses an address guessing across many e-mails after three times the limit', async () => {
    for (let i = 0; i < 3 * LIMIT; i += 1) expect((await login(uniqueEmail(), '10.0.3.1')).statusCode).toBe(401);
    expectProblem(await login(uniqueEmail(), '10.0.3.1'), 429);
  });

  it('only slows, never refuses, the owner of an e-mail guessed at from many addresses', async () => {
    const email = await registered();
    for (let i = 0; i < 3 * LIMIT; i += 1) expect((await login(email, `10.0.4.${i}`)).statusCode).toBe(401);
    const started = Date.now();
    expect((await login(email, '10.0.4.200', PASSWORD)).statusCode).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});

describe('per-address limits on the public routes that cost work', () => {
  it('limits forgot-password per address and per e-mail', async () => {
    const email = uniqueEmail();
    const forgot = () =>
      file.harness.app.inject({
        method: 'POST',
        url: '/api/v1/auth/forgot-password',
        remoteAddress: '10.0.5.1',
        payload: { email },
      });
    for (let i = 0; i < LIMIT; i += 1) expect((await forgot()).statusCode).toBe(202);
    expectProblem(await forgot(), 429);
  });

  it('limits registrations, resets, verifications and refreshes per address', async () => {
    for (const [url, body] of [
      ['/api/v1/auth/register', () => ({ name: 'Flood', email: uniqueEmail(), password: PASSWORD })],
      ['/api/v1/auth/reset-password', () => ({ token: 'not-a-real-token', password: PASSWORD })],
      ['/api/v1/auth/verify-email', () => ({ token: 'not-a-real-token' })],
      ['/api/v1/auth/refresh', () => ({ refreshToken: 'not-a-real-token' })],
    ] as const) {
      const send = () => file.harness.app.inject({ method: 'POST', url, remoteAddress: '10.0.6.1', payload: body() });
      for (let i = 0; i < PER_IP; i += 1) expect((await send()).statusCode, url).toBeLessThan(429);
      expectProblem(await send(), 429, 'RATE_LIMITED');
      // Another address is not affected.
      const other = await file.harness.app.inject({ method: 'POST', url, remoteAddress: '10.0.6.2', payload: body() });
      expect(other.statusCode, url).toBeLessThan(429);
    }
  });
});

describe('change-password', () => {
  it('limits wrong current passwords per session and audits each one', async () => {
    const user = await file.api.signUp();
    const change = (currentPassword: string) =>
      file.api.post('/auth/change-password', { currentPassword, newPassword: 'a new password 1' }, user.accessToken);
    for (let i = 0; i < 5; i += 1) expectProblem(await change(`guess ${i}`), 400, 'VALIDATION_FAILED');
    // The right one is refused too now: the session is spent on guesses.
    expectProblem(await change(PASSWORD), 429, 'RATE_LIMITED');
    const admin = await signInAdmin(file.harness);
    const logged = (
      await file.api.get(`/logs?action=auth.password_change_failed&userId=${user.user.id}`, admin.accessToken)
    ).json();
    expect(logged.meta.total).toBe(5);
  });
});
