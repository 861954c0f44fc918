import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { expectProblem, PASSWORD, uniqueEmail } from '../../../test/helpers/client.js';
import { useHarness } from '../../../test/helpers/harness.js';
import { queryRows } from '../../infra/db/database.js';

const file = useHarness({ REGISTRATION: 'closed' });
let admin: { accessToken: string };

beforeAll(async () => {
  admin = await signInAdmin(file.harness);
});

const invite = (body: Record<string, unknown>, token = admin.accessToken) =>
  file.api.post('/users', { name: 'Invitee', email: uniqueEmail('invitee'), role: 'user', ...body }, token);

describe('closed registration', () => {
  it('refuses self-registration with 403 REGISTRATION_CLOSED', async () => {
    const response = await file.api.post('/auth/register', { name: 'Eve', email: uniqueEmail(), password: PASSWORD });
    expectProblem(response, 403, 'REGISTRATION_CLOSED');
  });

  it('lets an admin invite: the e-mailed link sets the password for 72 hours, then login works', async () => {
    const email = uniqueEmail('invitee');
    const response = await invite({ email, role: 'admin' });
    expect(response.statusCode, response.body).toBe(201);
    const { user } = response.json();
    expect(user).toMatchObject({ email, name: 'Invitee', role: 'admin', emailVerifiedAt: null });

    const mail = await file.harness.mailbox.waitFor(email, 'invited');
    // The invitee's address is not verified yet: the mail quotes nothing the admin typed.
    expect(mail.body).not.toContain('Invitee');
    const link = mail.links.find((l) => l.startsWith('http://tokenpool.test/reset-password?token='));
    expect(link, mail.body).toBeDefined();
    const [lifetime] = await queryRows<{ hours: number }>(
      file.harness.runtime.database.db,
      sql`select extract(epoch from expires_at - created_at) / 3600 as hours from one_time_tokens
          where user_id = ${user.id} and purpose = 'password_reset'`,
    );
    expect(Number(lifetime?.hours)).toBeCloseTo(72, 1);

    expectProblem(await file.api.post('/auth/login', { email, password: 'the invitee chose' }), 401);
    const token = new URL(link as string).searchParams.get('token');
    const set = await file.api.post('/auth/reset-password', { token, password: 'the invitee chose' });
    expect(set.statusCode, set.body).toBe(204);
    const signedIn = await file.api.login(email, 'the invitee chose');
    const me = (await file.api.get('/users/me', signedIn.accessToken)).json();
    // The link reached the address: that confirms it.
    expect(me).toMatchObject({ id: user.id, role: 'admin', emailVerifiedAt: expect.any(String) });

    const [audit] = await queryRows<{ action: string; target_id: string }>(
      file.harness.runtime.database.db,
      sql`select action, target_id from audit_logs where action = 'user.invited' and target_id = ${user.id}`,
    );
    expect(audit).toBeDefined();
  });

  it('answers 409 when the e-mail is taken, whatever its case', async () => {
    const email = uniqueEmail('twice');
    expect((await invite({ email })).statusCode).toBe(201);
    expectProblem(await invite({ email: email.toUpperCase() }), 409, 'EMAIL_TAKEN');
  });

  it('is for admins only, and refuses a role that does not exist', async () => {
    const email = uniqueEmail('plain');
    expect((await invite({ email })).statusCode).toBe(201);
    const mail = await file.harness.mailbox.waitFor(email, 'invited');
    const token = new URL(mail.links.find((l) => l.includes('token=')) as string).searchParams.get('token');
    expect((await file.api.post('/auth/reset-password', { token, password: PASSWORD })).statusCode).toBe(204);
    const plain = await file.api.login(email);
    expectProblem(await invite({}, plain.accessToken), 403, 'FORBIDDEN');
    expectProblem(await invite({ role: 'root' }), 400, 'VALIDATION_FAILED');
    expectProblem(await file.api.post('/users', { name: 'X', email: uniqueEmail(), role: 'user' }), 401);
  });
});
