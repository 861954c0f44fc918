import type { Executor } from '../../infra/db/database.js';
import { updatePasswordHash } from '../users/users.sql.js';
import { spendEmailLinks } from './email-links.sql.js';

/**
 * Every way a password changes goes through here: the new hash, and every reset link still out
 * spent with it, so a link that leaked before the change cannot undo it. Invitations are reset
 * links too. Call it inside the transaction that makes the change.
 */
export async function replacePassword(executor: Executor, userId: string, passwordHash: string): Promise<void> {
  await updatePasswordHash(executor, userId, passwordHash);
  await spendEmailLinks(executor, userId, 'password_reset');
}
