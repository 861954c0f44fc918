import type { Db } from '../../infra/db/database.js';
import { insertAuditEntry } from '../audit/audit.sql.js';
import { NO_REQUEST } from '../audit/audit-origin.js';
import { findUserByEmail, insertUser, normalizeEmail, setRole } from '../users/users.sql.js';
import { hashPassword } from './passwords.js';
import { replacePassword } from './replace-password.js';

export interface EnsureAdminOptions {
  email: string;
  password: string;
  /**
   * Whether an existing account's password is replaced. The CLI does; a start with
   * ADMIN_EMAIL/ADMIN_PASSWORD does not, so a password changed through the API survives restarts.
   */
  resetPassword: boolean;
}

/** Makes sure the account exists and is an admin; safe for many processes starting at once. */
export async function ensureAdmin(db: Db, options: EnsureAdminOptions): Promise<'created' | 'updated'> {
  const email = normalizeEmail(options.email);
  const passwordHash = await hashPassword(options.password);
  return db.transaction(async (tx) => {
    const created = await insertUser(tx, {
      name: 'Administrator',
      email,
      passwordHash,
      birthDate: null,
      role: 'admin',
    });
    const user = created ?? (await findUserByEmail(tx, email));
    if (!user) throw new Error(`could not create or find ${email}`);
    if (!created) {
      await setRole(tx, user.id, 'admin');
      if (options.resetPassword) await replacePassword(tx, user.id, passwordHash);
    }
    await insertAuditEntry(tx, {
      action: 'auth.admin_ensured',
      userId: null,
      target: { type: 'user', id: user.id },
      metadata: { created: Boolean(created), passwordReset: !created && options.resetPassword },
      context: NO_REQUEST,
    });
    return created ? 'created' : 'updated';
  });
}
