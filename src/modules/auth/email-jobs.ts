import type { Config } from '../../config.js';
import type { Database } from '../../infra/db/database.js';
import type { Mailer } from '../../infra/mail/mailer.js';
import { defineJob, type JobHandler, PermanentJobError } from '../../infra/queue/queue.js';
import { findUserById } from '../users/users.sql.js';
import { insertEmailLink } from './email-links.sql.js';
import { invitationEmail, passwordResetEmail, welcomeEmail } from './emails.js';
import { hashSecret, newOpaqueSecret } from './opaque-secrets.js';

/** What the account e-mails are sent with. */
export interface EmailJobDeps {
  readonly database: Database;
  readonly mailer: Mailer;
  readonly config: Pick<Config, 'PUBLIC_URL' | 'MAIL_RETRY_SECONDS'>;
}

interface UserPayload {
  userId: string;
}

const EMAIL_VERIFICATION_TTL_SECONDS = 7 * 24 * 3600;
const PASSWORD_RESET_TTL_SECONDS = 3600;
// An invitee may not read their mail the same day; the link is a reset link that lasts longer.
const INVITATION_TTL_SECONDS = 72 * 3600;

export const welcomeEmailJob = defineJob<UserPayload>('auth.welcome-email');
export const passwordResetEmailJob = defineJob<UserPayload>('auth.password-reset-email');
export const invitationEmailJob = defineJob<UserPayload>('auth.invitation-email');

// The link's token is made here, not in the request: queue payloads then hold no secret. A retry
// makes another token; each stays valid until used or expired, which is harmless.
async function linkFor(
  deps: EmailJobDeps,
  userId: string,
  purpose: 'password_reset' | 'email_verification',
  ttlSeconds: number,
) {
  const token = newOpaqueSecret();
  await insertEmailLink(deps.database.db, { userId, purpose, tokenHash: hashSecret(token), ttlSeconds });
  const page = purpose === 'password_reset' ? 'reset-password' : 'verify-email';
  return `${deps.config.PUBLIC_URL}/${page}?token=${token}`;
}

/** The addressee of an e-mail: a person (service accounts have no e-mail and are never mailed). */
async function loadUser(deps: EmailJobDeps, userId: string) {
  const user = await findUserById(deps.database.db, userId);
  if (!user) throw new PermanentJobError(`user ${userId} does not exist`);
  if (user.email === null) throw new PermanentJobError(`user ${userId} has no e-mail`);
  return { ...user, email: user.email };
}

export function welcomeEmailHandler(deps: EmailJobDeps): JobHandler<UserPayload> {
  return async ({ userId }) => {
    const user = await loadUser(deps, userId);
    await deps.mailer.send(
      welcomeEmail(user.email, await linkFor(deps, user.id, 'email_verification', EMAIL_VERIFICATION_TTL_SECONDS)),
    );
  };
}

export function passwordResetEmailHandler(deps: EmailJobDeps): JobHandler<UserPayload> {
  return async ({ userId }) => {
    const user = await loadUser(deps, userId);
    const link = await linkFor(deps, user.id, 'password_reset', PASSWORD_RESET_TTL_SECONDS);
    await deps.mailer.send(passwordResetEmail(user.email, link, PASSWORD_RESET_TTL_SECONDS / 60));
  };
}

/** The invitee sets a password through a reset link (the same mechanism), valid for 72 hours. */
export function invitationEmailHandler(deps: EmailJobDeps): JobHandler<UserPayload> {
  return async ({ userId }) => {
    const user = await loadUser(deps, userId);
    const link = await linkFor(deps, user.id, 'password_reset', INVITATION_TTL_SECONDS);
    await deps.mailer.send(invitationEmail(user.email, link, INVITATION_TTL_SECONDS / 3600));
  };
}
