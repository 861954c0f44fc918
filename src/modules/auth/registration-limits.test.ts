import { describe, expect, it } from 'vitest';
import { expectProblem, PASSWORD, uniqueEmail } from '../../../test/helpers/client.js';
import { useHarness } from '../../../test/helpers/harness.js';

const REGISTER_LIMIT = 3;
const file = useHarness({ REGISTER_RATE_LIMIT: String(REGISTER_LIMIT), LOGIN_RATE_LIMIT: '20' });

const from = (remoteAddress: string, url: string, payload: Record<string, unknown>) =>
  file.harness.app.inject({ method: 'POST', url: `/api/v1${url}`, remoteAddress, payload });

const register = (remoteAddress: string, email = uniqueEmail()) =>
  from(remoteAddress, '/auth/register', { name: 'Flood', email, password: PASSWORD });

describe('registration', () => {
  it('is limited per IP by REGISTER_RATE_LIMIT, more tightly than other routes', async () => {
    for (let i = 0; i < REGISTER_LIMIT; i += 1) expect((await register('10.1.0.1')).statusCode).toBe(201);
    expectProblem(await register('10.1.0.1'), 429, 'RATE_LIMITED');
    expect((await register('10.1.0.2')).statusCode).toBe(201);
  });

  it('counts IPv6 clients by their /64: a new address in the same network is the same client', async () => {
    for (let i = 1; i <= REGISTER_LIMIT; i += 1) expect((await register(`2001:db8:7:1::${i}`)).statusCode).toBe(201);
    expectProblem(await register('2001:db8:7:1:abcd::9'), 429, 'RATE_LIMITED');
    expect((await register('2001:db8:7:2::1')).statusCode).toBe(201);
  });

  it('refuses an e-mail address longer than 254 characters with 400, anywhere', async () => {
    const longest = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`;
    expect(longest).toHaveLength(254);
    expect((await register('10.1.1.1', longest)).statusCode).toBe(201);
    const tooLong = `x${longest}`;
    for (const [url, body] of [
      ['/auth/register', { name: 'Long', email: tooLong, password: PASSWORD }],
      ['/auth/login', { email: tooLong, password: PASSWORD }],
      ['/auth/forgot-password', { email: tooLong }],
    ] as const) {
      const problem = expectProblem(await from('10.1.1.2', url, body), 400, 'VALIDATION_FAILED');
      expect(problem.errors?.map((e) => e.field)).toEqual(['email']);
    }
  });
});

describe('forgot-password', () => {
  const mailsTo = async (email: string) =>
    (await file.harness.mailbox.all()).filter((mail) => mail.to.includes(email) && mail.subject.includes('Reset'));
  const settle = () => new Promise((resolve) => setTimeout(resolve, 500));

  it('sends the owner one e-mail for ten requests from one IP, and another when the owner asks from elsewhere', async () => {
    const email = uniqueEmail('owner');
    expect((await register('10.2.0.1', email)).statusCode).toBe(201);
    for (let i = 0; i < 10; i += 1)
      expect((await from('10.2.0.66', '/auth/forgot-password', { email })).statusCode).toBe(202);
    await file.harness.mailbox.waitFor(email, 'Reset');
    await settle();
    expect(await mailsTo(email)).toHaveLength(1);

    expect((await from('10.2.0.2', '/auth/forgot-password', { email })).statusCode).toBe(202);
    for (let tries = 0; (await mailsTo(email)).length < 2 && tries < 50; tries += 1) await settle();
    expect(await mailsTo(email)).toHaveLength(2);
  });

  it('caps the e-mails to one address an hour, however many IPs ask, without ever refusing the request', async () => {
    const email = uniqueEmail('target');
    expect((await register('10.3.0.1', email)).statusCode).toBe(201);
    for (let i = 1; i <= 8; i += 1) {
      expect((await from(`10.3.1.${i}`, '/auth/forgot-password', { email })).statusCode).toBe(202);
    }
    await file.harness.mailbox.waitFor(email, 'Reset');
    for (let tries = 0; (await mailsTo(email)).length < 5 && tries < 50; tries += 1) await settle();
    await settle();
    expect(await mailsTo(email)).toHaveLength(5);
  });
});
