/** Every action the audit log records. Modules add theirs here, so the list is the documentation. */
export const AUDIT_ACTIONS = [
  'user.registered',
  'user.invited',
  'auth.login',
  'auth.login_failed',
  'auth.refresh',
  'auth.refresh_reused',
  'auth.logout',
  'auth.password_reset_requested',
  'auth.password_reset',
  'auth.password_changed',
  'auth.password_change_failed',
  'auth.email_verified',
  'auth.admin_ensured',
  'token.leased',
  'token.released',
  'token.evicted',
  'token.expired',
  'tokens.cleared',
  'import.queued',
  'import.completed',
  'import.failed',
  'job.failed',
  'webhook.created',
  'webhook.deleted',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];
