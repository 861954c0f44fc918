import { expect, it } from 'vitest';
import { PASSWORD, uniqueEmail } from './helpers/client.js';
import { useHarness } from './helpers/harness.js';

const file = useHarness();

function tokenFrom(links: string[], page: string): string {
  const link = links.find((l) => l.startsWith(`http://tokenpool.test/${page}?token=`));
  if (!link) throw new Error(`no ${page} link in ${links.join(', ')}`);
  return new URL(link).searchParams.get('token') as string;
}

// The "done when": every step of a new user's first day, each one visible in the audit log.
it('register, verify, log in, refresh, reset a forgotten password, log out — all in the audit log', async () => {
  const email = uniqueEmail('journey');
  const { id: userId } = await file.api.register(email);

  const welcome = await file.harness.mailbox.waitFor(email, 'Welcome');
  expect(
    (await file.api.post('/auth/verify-email', { token: tokenFrom(welcome.links, 'verify-email') })).statusCode,
  ).toBe(204);

  const first = await file.api.login(email);
  const refreshed = (await file.api.post('/auth/refresh', { refreshToken: first.refreshToken })).json();
  expect(refreshed.accessToken).toEqual(expect.any(String));

  expect((await file.api.post('/auth/forgot-password', { email })).statusCode).toBe(202);
  const reset = await file.harness.mailbox.waitFor(email, 'Reset');
  const newPassword = `${PASSWORD} 2`;
  const resetAnswer = await file.api.post('/auth/reset-password', {
    token: tokenFrom(reset.links, 'reset-password'),
    password: newPassword,
  });
  expect(resetAnswer.statusCode).toBe(204);

  const second = await file.api.login(email, newPassword);
  expect((await file.api.post('/auth/logout', undefined, second.accessToken)).statusCode).toBe(204);

  const third = await file.api.login(email, newPassword);
  const log = (await file.api.get('/logs?pageSize=100', third.accessToken)).json();
  expect(log.data.every((entry: { userId: string }) => entry.userId === userId)).toBe(true);
  expect(log.data.map((entry: { action: string }) => entry.action).reverse()).toEqual([
    'user.registered',
    'auth.email_verified',
    'auth.login',
    'auth.refresh',
    'auth.password_reset_requested',
    'auth.password_reset',
    'auth.login',
    'auth.logout',
    'auth.login',
  ]);
});
