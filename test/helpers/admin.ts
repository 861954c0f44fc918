import { ensureAdmin } from '../../src/modules/auth/admin-account.js';
import { client, PASSWORD, uniqueEmail } from './client.js';
import type { Harness } from './harness.js';

/** Creates an admin account and signs it in. */
export async function signInAdmin(harness: Harness) {
  const email = uniqueEmail('admin');
  await ensureAdmin(harness.runtime.database.db, { email, password: PASSWORD, resetPassword: false });
  return { email, ...(await client(harness.app).login(email)) };
}
