import { describe, expect, it } from 'vitest';
import { PASSWORD } from '../../../test/helpers/client.js';
import { useHarness } from '../../../test/helpers/harness.js';

const file = useHarness();

/** Opens the pool's event stream in this session; resolves when the service ends it. */
function openStream(accessToken: string) {
  return file.harness.app
    .inject({ method: 'GET', url: '/api/v1/tokens/events', headers: { authorization: `Bearer ${accessToken}` } })
    .then((response) => ({ response }));
}

describe('an event stream ends with its session', () => {
  it('at logout, within two seconds, while another session of the user keeps its stream', async () => {
    const user = await file.api.signUp();
    const other = await file.api.login(user.email);
    const ending = openStream(user.accessToken);
    let otherEnded = false;
    const staying = openStream(other.accessToken).then((result) => {
      otherEnded = true;
      return result;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const loggedOutAt = Date.now();
    expect((await file.api.post('/auth/logout', undefined, user.accessToken)).statusCode).toBe(204);
    const { response } = await ending;
    expect(Date.now() - loggedOutAt).toBeLessThan(2500);
    expect(response.body).toContain(': connected');
    expect(otherEnded).toBe(false);
    // A password change ends every other session: the second stream goes too.
    const fresh = await file.api.login(user.email);
    const changed = await file.api.post(
      '/auth/change-password',
      { currentPassword: PASSWORD, newPassword: 'another password 2' },
      fresh.accessToken,
    );
    expect(changed.statusCode).toBe(204);
    await staying;
    expect(otherEnded).toBe(true);
  });
});
