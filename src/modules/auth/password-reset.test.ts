import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { expectProblem, PASSWORD, uniqueEmail } from '../../../test/helpers/client.js';
import { useHarness } from '../../../test/helpers/harness.js';

const file = useHarness();

async function resetToken(email: string): Promise<string> {
  const response = await file.api.post('/auth/forgot-password', { email });
  expect(response.statusCode, response.body).toBe(202);
  const mail = await file.harness.mailbox.waitFor(email, 'Reset');
  const link = mail.links.find((l) => l.startsWith('http://tokenpool.test/reset-password?token='));
  expect(link, mail.body).toBeDefined();
  return new URL(link as string).searchParams.get('token') as string;
}

describe('forgot and reset password', () => {
  it('answers 202 for unknown e-mails too, and sends nothing', async () => {
    const unknown = uniqueEmail('nobody');
    const response = await file.api.post('/auth/forgot-password', { email: unknown });
    expect(response.statusCode).toBe(202);
    expect(response.body).toBe('');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await file.harness.mailbox.all()).some((mail) => mail.to.includes(unknown))).toBe(false);
  });

  it('resets once with the e-mailed token and ends every session', async () => {
    const { email, accessToken, refreshToken } = await file.api.signUp();
    const token = await resetToken(email);

    const reset = await file.api.post('/auth/reset-password', { token, password: 'my new password' });
    expect(reset.statusCode, reset.body).toBe(204);
    expectProblem(await file.api.get('/users/me', accessToken), 401);
    expectProblem(await file.api.post('/auth/refresh', { refreshToken }), 401);
    expectProblem(await file.api.post('/auth/login', { email, password: PASSWORD }), 401);
    await file.api.login(email, 'my new password');

    expectProblem(
      await file.api.post('/auth/reset-password', { token, password: 'yet another one' }),
      400,
      'INVALID_EMAIL_LINK',
    );
  });

  it('lets only one of two racing resets with the same token win', async () => {
    const { email } = await file.api.signUp();
    const token = await resetToken(email);
    const answers = await Promise.all(
      ['first new password', 'second new password'].map((password) =>
        file.api.post('/auth/reset-password', { token, password }),
      ),
    );
    expect(answers.map((a) => a.statusCode).sort()).toEqual([204, 400]);
  });

  it('spends every outstanding reset link when the password is changed', async () => {
    const { email, accessToken } = await file.api.signUp();
    // A link that leaked (a shared mailbox, a forwarded e-mail) before the owner changed the password.
    const token = await resetToken(email);
    const changed = await file.api.post(
      '/auth/change-password',
      { currentPassword: PASSWORD, newPassword: 'changed by the owner' },
      accessToken,
    );
    expect(changed.statusCode, changed.body).toBe(204);
    expectProblem(
      await file.api.post('/auth/reset-password', { token, password: "the attacker's password" }),
      400,
      'INVALID_EMAIL_LINK',
    );
    expectProblem(await file.api.post('/auth/login', { email, password: "the attacker's password" }), 401);
    await file.api.login(email, 'changed by the owner');
  });

  it('refuses a token older than one hour', async () => {
    const { email } = await file.api.signUp();
    const token = await resetToken(email);
    await file.harness.runtime.database.db.execute(
      sql`update one_time_tokens set expires_at = now() - interval '1 second' where purpose = 'password_reset'`,
    );
    expectProblem(
      await file.api.post('/auth/reset-password', { token, password: 'my new password' }),
      400,
      'INVALID_EMAIL_LINK',
    );
  });

  it('sets a first password for an account that had none', async () => {
    const email = uniqueEmail('imported');
    await file.harness.runtime.database.db.execute(
      sql`insert into users (name, email, password_hash) values ('Imported', ${email}, null)`,
    );
    expectProblem(await file.api.post('/auth/login', { email, password: PASSWORD }), 401);
    const token = await resetToken(email);
    expect((await file.api.post('/auth/reset-password', { token, password: PASSWORD })).statusCode).toBe(204);
    await file.api.login(email);
  });

  it('validates the new password', async () => {
    const response = await file.api.post('/auth/reset-password', { token: 'x', password: 'short' });
    expect(expectProblem(response, 400, 'VALIDATION_FAILED').errors?.[0]?.field).toBe('password');
  });
});
