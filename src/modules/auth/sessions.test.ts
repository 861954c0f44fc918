import { describe, expect, it } from 'vitest';
import { client, expectProblem, PASSWORD } from '../../../test/helpers/client.js';
import { startHarness, useHarness } from '../../../test/helpers/harness.js';

const file = useHarness();

describe('POST /auth/refresh', () => {
  it('rotates: the new pair works and the old refresh token is spent', async () => {
    const { refreshToken } = await file.api.signUp();
    const first = await file.api.post('/auth/refresh', { refreshToken });
    expect(first.statusCode, first.body).toBe(200);
    const pair = first.json();
    expect(pair.refreshToken).not.toBe(refreshToken);
    expect((await file.api.get('/users/me', pair.accessToken)).statusCode).toBe(200);

    const second = await file.api.post('/auth/refresh', { refreshToken: pair.refreshToken });
    expect(second.statusCode, second.body).toBe(200);
  });

  it('revokes the whole session when a spent token is presented again', async () => {
    const { refreshToken } = await file.api.signUp();
    const rotated = (await file.api.post('/auth/refresh', { refreshToken })).json();

    expectProblem(await file.api.post('/auth/refresh', { refreshToken }), 401, 'REFRESH_TOKEN_REUSED');
    // Everything issued to that session is dead now: the rotated refresh token and its access token.
    expectProblem(await file.api.post('/auth/refresh', { refreshToken: rotated.refreshToken }), 401);
    expectProblem(await file.api.get('/users/me', rotated.accessToken), 401, 'UNAUTHENTICATED');
  });

  it('lets exactly one of two concurrent uses of one token win', async () => {
    const { refreshToken } = await file.api.signUp();
    const answers = await Promise.all([1, 2, 3].map(() => file.api.post('/auth/refresh', { refreshToken })));
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 401, 401]);
  });

  it('rejects unknown and malformed tokens', async () => {
    expectProblem(await file.api.post('/auth/refresh', { refreshToken: 'nonsense' }), 401, 'INVALID_REFRESH_TOKEN');
    expectProblem(await file.api.post('/auth/refresh', {}), 400, 'VALIDATION_FAILED');
  });
});

describe('POST /auth/logout', () => {
  it("ends that session's access and refresh tokens at once, and only that session", async () => {
    const { email, accessToken, refreshToken } = await file.api.signUp();
    const other = await file.api.login(email);

    const logout = await file.api.post('/auth/logout', undefined, accessToken);
    expect(logout.statusCode, logout.body).toBe(204);
    expectProblem(await file.api.get('/users/me', accessToken), 401);
    expectProblem(await file.api.post('/auth/refresh', { refreshToken }), 401);
    expect((await file.api.get('/users/me', other.accessToken)).statusCode).toBe(200);
  });

  it('needs a valid access token', async () => {
    expectProblem(await file.api.post('/auth/logout'), 401, 'UNAUTHENTICATED');
    expectProblem(await file.api.post('/auth/logout', undefined, 'not.a.token.at.all'), 401);
  });
});

describe('POST /auth/change-password', () => {
  it('changes the password and ends every other session', async () => {
    const { email, accessToken } = await file.api.signUp();
    const other = await file.api.login(email);
    const response = await file.api.post(
      '/auth/change-password',
      { currentPassword: PASSWORD, newPassword: 'a brand new password' },
      accessToken,
    );
    expect(response.statusCode, response.body).toBe(204);
    expect((await file.api.get('/users/me', accessToken)).statusCode).toBe(200);
    expectProblem(await file.api.get('/users/me', other.accessToken), 401);
    expectProblem(await file.api.post('/auth/login', { email, password: PASSWORD }), 401);
    await file.api.login(email, 'a brand new password');
  });

  it('refuses a wrong current password and a too short new one', async () => {
    const { accessToken } = await file.api.signUp();
    const wrong = await file.api.post(
      '/auth/change-password',
      { currentPassword: 'not it at all', newPassword: 'a brand new password' },
      accessToken,
    );
    expect(expectProblem(wrong, 400).errors?.[0]?.field).toBe('currentPassword');
    const short = await file.api.post(
      '/auth/change-password',
      { currentPassword: PASSWORD, newPassword: 'short' },
      accessToken,
    );
    expect(expectProblem(short, 400).errors?.[0]?.field).toBe('newPassword');
  });
});

describe('access tokens', () => {
  it('expire after ACCESS_TOKEN_TTL_SECONDS', async () => {
    const shortLived = await startHarness({ ACCESS_TOKEN_TTL_SECONDS: '1' });
    try {
      const local = client(shortLived.app);
      const { accessToken } = await local.signUp();
      expect((await local.get('/users/me', accessToken)).statusCode).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      expectProblem(await local.get('/users/me', accessToken), 401);
    } finally {
      await shortLived.close();
    }
  });
});
