import type { Database } from '../../infra/db/database.js';
import { errors } from '../../infra/http/errors.js';
import type { Principal, Role } from '../../infra/http/principal.js';
import { enqueueJob } from '../../infra/queue/jobs.sql.js';
import type { JobQueue } from '../../infra/queue/queue.js';
import { insertAuditEntry } from '../audit/audit.sql.js';
import type { AuditOrigin } from '../audit/audit-origin.js';
import { invitationEmailJob } from '../auth/email-jobs.js';
import { insertUser, normalizeEmail, type UserRow } from './users.sql.js';

/** What an invitation is made with. */
export interface InvitationDeps {
  readonly database: Database;
  readonly queue: JobQueue;
}

/**
 * An admin makes an account with no password; the invitee chooses one through the e-mailed link
 * (a password reset link that lasts 72 hours). Account, audit entry and e-mail job are one
 * transaction: no account without its invitation, no invitation to an address that was taken.
 */
export async function inviteUser(
  { database, queue }: InvitationDeps,
  admin: Principal,
  input: { name: string; email: string; role: Role },
  context: AuditOrigin,
): Promise<UserRow> {
  const user = await database.db.transaction(async (tx) => {
    const created = await insertUser(tx, {
      name: input.name.trim(),
      email: normalizeEmail(input.email),
      passwordHash: null,
      birthDate: null,
      role: input.role,
    });
    if (!created) throw errors.emailTaken();
    await insertAuditEntry(tx, {
      action: 'user.invited',
      userId: admin.userId,
      target: { type: 'user', id: created.id },
      metadata: { role: input.role },
      context,
    });
    await enqueueJob(tx, invitationEmailJob, { userId: created.id });
    return created;
  });
  queue.wake();
  return user;
}
