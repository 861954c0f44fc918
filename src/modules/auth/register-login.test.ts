import { describe, expect, it } from 'vitest';
import { expectProblem, PASSWORD, uniqueEmail } from '../../../test/helpers/client.js';
import { useHarness } from '../../../test/helpers/harness.js';

const file = useHarness();

describe('POST /auth/register', () => {
  it('creates the user, normalizes the e-mail and queues a welcome e-mail with a verify link', async () => {
    const email = uniqueEmail('Welcome');
    const response = await file.api.post('/auth/register', {
      name: '  Ada Lovelace ',
      email: `  ${email.toUpperCase()} `,
      password: PASSWORD,
      birthDate: '1915-12-10',
    });
    expect(response.statusCode, response.body).toBe(201);
    const { user } = response.json();
    expect(user).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Ada Lovelace',
      email: email.toLowerCase(),
      birthDate: '1915-12-10',
      role: 'user',
      emailVerifiedAt: null,
      kind: 'person',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(response.body).not.toContain('password');

    const mail = await file.harness.mailbox.waitFor(email.toLowerCase(), 'Welcome');
    const link = mail.links.find((l) => l.startsWith('http://tokenpool.test/verify-email?token='));
    expect(link, mail.body).toBeDefined();
    const token = new URL(link as string).searchParams.get('token');

    const verify = await file.api.post('/auth/verify-email', { token });
    expect(verify.statusCode, verify.body).toBe(204);
    const tokens = await file.api.login(email);
    const me = await file.api.get('/users/me', tokens.accessToken);
    expect(me.json().emailVerifiedAt).toEqual(expect.any(String));

    expectProblem(await file.api.post('/auth/verify-email', { token }), 400, 'INVALID_EMAIL_LINK');
  });

  it("sends a stranger's address no word the registrant typed, in the welcome or the reset e-mail", async () => {
    const email = uniqueEmail('stranger');
    const name = 'customer. URGENT: wire the fee at https://evil.example/pay';
    expect((await file.api.post('/auth/register', { name, email, password: PASSWORD })).statusCode).toBe(201);
    expect((await file.api.post('/auth/forgot-password', { email })).statusCode).toBe(202);
    for (const subject of ['Welcome', 'Reset']) {
      // Text and HTML parts alike.
      const { body } = await file.harness.mailbox.waitFor(email, subject);
      for (const part of ['customer', 'URGENT', 'wire', 'fee', 'evil.example', '/pay'])
        expect(body).not.toContain(part);
    }
  });

  it('answers 409 for an e-mail already taken, whatever its case', async () => {
    const email = uniqueEmail();
    await file.api.register(email);
    const again = await file.api.post('/auth/register', {
      name: 'Other',
      email: email.toUpperCase(),
      password: PASSWORD,
    });
    expectProblem(again, 409, 'EMAIL_TAKEN');
  });

  it('lists every invalid field in one problem document', async () => {
    const response = await file.api.post('/auth/register', {
      name: '',
      email: 'not-an-email',
      password: 'short',
      birthDate: '2020-02-31x',
    });
    const problem = expectProblem(response, 400, 'VALIDATION_FAILED');
    const fields = problem.errors?.map((e) => e.field).sort();
    expect(fields).toEqual(['birthDate', 'email', 'name', 'password']);
  });

  it('rejects impossible and future birth dates', async () => {
    for (const birthDate of ['2021-02-29', '1990-13-01', '2999-01-01']) {
      const response = await file.api.post('/auth/register', {
        name: 'A',
        email: uniqueEmail(),
        password: PASSWORD,
        birthDate,
      });
      expect(expectProblem(response, 400).errors, birthDate).toEqual([
        { field: 'birthDate', message: expect.any(String) },
      ]);
    }
  });

  it('rejects passwords longer than 128 characters and missing fields', async () => {
    const tooLong = await file.api.post('/auth/register', {
      name: 'A',
      email: uniqueEmail(),
      password: 'x'.repeat(129),
    });
    expect(expectProblem(tooLong, 400).errors).toEqual([{ field: 'password', message: expect.stringMatching(/128/) }]);
    const missing = expectProblem(await file.api.post('/auth/register', {}), 400);
    expect(missing.errors?.map((e) => e.field).sort()).toEqual(['email', 'name', 'password']);
  });
});

describe('POST /auth/login', () => {
  it('returns an opaque access token and a refresh token', async () => {
    const email = uniqueEmail();
    await file.api.register(email);
    const response = await file.api.post('/auth/login', { email: ` ${email.toUpperCase()}`, password: PASSWORD });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 900,
    });
    // A JWE has five parts, and its claims are not readable as base64 JSON.
    const parts = body.accessToken.split('.');
    expect(parts).toHaveLength(5);
    expect(Buffer.from(parts[3], 'base64url').toString()).not.toContain(email);
    expect((await file.api.get('/users/me', body.accessToken)).json().email).toBe(email);
  });

  it('answers a wrong password and an unknown e-mail alike', async () => {
    const email = uniqueEmail();
    await file.api.register(email);
    const wrongPassword = await file.api.post('/auth/login', { email, password: 'wrong password' });
    const unknownEmail = await file.api.post('/auth/login', { email: uniqueEmail(), password: PASSWORD });
    expectProblem(wrongPassword, 401, 'INVALID_CREDENTIALS');
    expectProblem(unknownEmail, 401, 'INVALID_CREDENTIALS');
    expect(wrongPassword.json()).toEqual(unknownEmail.json());
  });

  it('rejects a malformed body with a problem document, not a 500', async () => {
    expectProblem(await file.api.postRaw('/auth/login', 'application/json', '{"email": '), 400);
  });
});
