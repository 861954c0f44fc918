import { sql } from 'drizzle-orm';
import { check, date, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true, precision: 6 }).notNull().defaultNow();
const optionalTime = (name: string) => timestamp(name, { withTimezone: true, precision: 6 });

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    // Stored trimmed and lower-cased, so one plain unique index makes e-mails case-insensitive.
    email: text('email').notNull(),
    // Null for imported users until they set one through forgot-password.
    passwordHash: text('password_hash'),
    birthDate: date('birth_date', { mode: 'string' }),
    role: text('role', { enum: ['user', 'admin'] })
      .notNull()
      .default('user'),
    emailVerifiedAt: optionalTime('email_verified_at'),
    createdAt: createdAt(),
    updatedAt: optionalTime('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('users_email_key').on(t.email),
    index('users_created_at_idx').on(t.createdAt.desc(), t.id.desc()),
    check('users_role_check', sql`${t.role} in ('user', 'admin')`),
    check('users_email_normalized_check', sql`${t.email} = lower(btrim(${t.email}))`),
  ],
);

export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
    revokedAt: optionalTime('revoked_at'),
    revokedReason: text('revoked_reason'),
  },
  (t) => [index('sessions_user_id_idx').on(t.userId).where(sql`${t.revokedAt} is null`)],
);

export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    // SHA-256 of the token: the token itself is never stored.
    tokenHash: text('token_hash').primaryKey(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => sessions.id),
    createdAt: createdAt(),
    expiresAt: optionalTime('expires_at').notNull(),
    spentAt: optionalTime('spent_at'),
  },
  (t) => [index('refresh_tokens_session_id_idx').on(t.sessionId)],
);

export const oneTimeTokens = pgTable(
  'one_time_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    purpose: text('purpose', { enum: ['password_reset', 'email_verification'] }).notNull(),
    createdAt: createdAt(),
    expiresAt: optionalTime('expires_at').notNull(),
    usedAt: optionalTime('used_at'),
  },
  (t) => [
    index('one_time_tokens_user_id_idx').on(t.userId, t.purpose),
    check('one_time_tokens_purpose_check', sql`${t.purpose} in ('password_reset', 'email_verification')`),
  ],
);

export const auditLogs = pgTable(
  'audit_logs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    action: text('action').notNull(),
    // The actor; null for background jobs and for anonymous attempts.
    userId: uuid('user_id').references(() => users.id),
    targetType: text('target_type'),
    targetId: text('target_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    requestId: text('request_id'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    index('audit_logs_created_at_idx').on(t.createdAt.desc(), t.id.desc()),
    index('audit_logs_user_id_idx').on(t.userId, t.createdAt.desc(), t.id.desc()),
    index('audit_logs_action_idx').on(t.action, t.createdAt.desc(), t.id.desc()),
  ],
);
