import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  check,
  customType,
  date,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true, precision: 6 }).notNull().defaultNow();
const optionalTime = (name: string) => timestamp(name, { withTimezone: true, precision: 6 });
/** The row this one belongs to; `target` is a function so a table may name one declared after it. */
const belongsTo = (name: string, target: () => AnyPgColumn) => uuid(name).notNull().references(target);
// drizzle's pg-core has no bytea column: the drivers hand one over as bytes (pg a Buffer, PGlite a Uint8Array).
const bytea = customType<{ data: Uint8Array }>({ dataType: () => 'bytea' });

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    // Stored trimmed and lower-cased, so one plain unique index makes e-mails case-insensitive.
    // Null for service accounts only (users_kind_check).
    email: text('email'),
    // Null for imported users until they set one through forgot-password, and for service accounts.
    passwordHash: text('password_hash'),
    birthDate: date('birth_date', { mode: 'string' }),
    role: text('role', { enum: ['user', 'admin'] })
      .notNull()
      .default('user'),
    emailVerifiedAt: optionalTime('email_verified_at'),
    // A person signs in with e-mail and password; a service account is a program that has neither
    // and authenticates with API keys only, so its keys outlive any person leaving.
    kind: text('kind', { enum: ['person', 'service'] })
      .notNull()
      .default('person'),
    createdAt: createdAt(),
    updatedAt: optionalTime('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('users_email_key').on(t.email),
    index('users_created_at_idx').on(t.createdAt.desc(), t.id.desc()),
    check('users_role_check', sql`${t.role} in ('user', 'admin')`),
    check(
      'users_kind_check',
      sql`(${t.kind} = 'person' and ${t.email} is not null) or (${t.kind} = 'service' and ${t.email} is null and ${t.passwordHash} is null)`,
    ),
    check('users_email_normalized_check', sql`${t.email} = lower(btrim(${t.email}))`),
  ],
);

export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: belongsTo('user_id', () => users.id),
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
    sessionId: belongsTo('session_id', () => sessions.id),
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
    userId: belongsTo('user_id', () => users.id),
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

/**
 * Single-use tickets that open one event stream: `EventSource` cannot send an `Authorization`
 * header, and an access token in a URL would end up in logs. Stored as SHA-256 only.
 */
export const streamTickets = pgTable(
  'stream_tickets',
  {
    ticketHash: text('ticket_hash').primaryKey(),
    sessionId: belongsTo('session_id', () => sessions.id),
    expiresAt: optionalTime('expires_at').notNull(),
  },
  (t) => [index('stream_tickets_expires_at_idx').on(t.expiresAt)],
);

/**
 * Keys that programs authenticate with (`tp_sk_…`, see modules/api-keys/key-format.ts). Only the
 * SHA-256 of a key is kept. A revoked key keeps its row, so its owner's audit trail still names it.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ownerId: belongsTo('owner_id', () => users.id),
    // Who made it: the owner, or the admin who made it for a service account.
    createdBy: uuid('created_by').references(() => users.id),
    name: text('name').notNull(),
    keyHash: text('key_hash').notNull(),
    // The key's first 12 characters, for people to recognise it.
    prefix: text('prefix').notNull(),
    scopes: text('scopes').array().notNull(),
    // The pools it may use; null for every pool.
    pools: text('pools').array(),
    createdAt: createdAt(),
    expiresAt: optionalTime('expires_at').notNull(),
    revokedAt: optionalTime('revoked_at'),
    lastUsedAt: optionalTime('last_used_at'),
  },
  (t) => [
    // Every request made with a key is one read of this index.
    uniqueIndex('api_keys_key_hash_key').on(t.keyHash),
    index('api_keys_owner_idx').on(t.ownerId, t.createdAt.desc(), t.id.desc()).where(sql`${t.revokedAt} is null`),
    index('api_keys_live_idx').on(t.createdAt.desc(), t.id.desc()).where(sql`${t.revokedAt} is null`),
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

/**
 * The pool: made once, never grown or shrunk (a trigger refuses inserts and deletes). The columns
 * after `id` mirror the token's latest lease so a lease needs no join; whether that lease is still
 * active is decided by `expires_at` against the database clock, never by these columns alone.
 */
export const tokens = pgTable(
  'tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    holderId: uuid('holder_id'),
    leasedAt: optionalTime('leased_at'),
    expiresAt: optionalTime('expires_at'),
    leaseId: bigint('lease_id', { mode: 'number' }),
  },
  (t) => [
    // Free tokens (leased_at null) first, then the oldest leases: the order in which a lease takes them.
    index('tokens_lease_order_idx').on(t.leasedAt.asc().nullsFirst(), t.id),
    // The token whose lease ended first, when no token is free: found without reading the pool.
    index('tokens_expires_at_idx').on(t.expiresAt, t.id),
  ],
);

/**
 * How a lease ended. A type rather than a CHECK listing the values: PostgreSQL checks a type's
 * values as it reads them, while a CHECK is read again for every statement that writes the table,
 * which two statements of every evicting lease do (see docs/benchmarks.md).
 */
export const leaseEndReason = pgEnum('lease_end_reason', ['expired', 'released', 'evicted', 'cleared']);

/** Every lease ever made, with how it ended; an open lease has no `ended_at` yet. */
export const tokenLeases = pgTable(
  'token_leases',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    tokenId: belongsTo('token_id', () => tokens.id),
    // Any UUID: an admin may lease for a holder that is not an account here.
    userId: uuid('user_id').notNull(),
    leasedAt: optionalTime('leased_at').notNull(),
    expiresAt: optionalTime('expires_at').notNull(),
    endedAt: optionalTime('ended_at'),
    endReason: leaseEndReason('end_reason'),
    // What the holder said about itself when it asked (a JSON object of at most 1 KiB).
    metadata: jsonb('metadata').$type<Record<string, unknown>>(),
  },
  (t) => [
    // The invariants: at most one open lease per token and per holder.
    uniqueIndex('token_leases_open_token_key').on(t.tokenId).where(sql`${t.endedAt} is null`),
    uniqueIndex('token_leases_open_user_key').on(t.userId).where(sql`${t.endedAt} is null`),
    index('token_leases_history_idx').on(t.tokenId, t.leasedAt.desc(), t.id.desc()),
    index('token_leases_due_idx').on(t.expiresAt).where(sql`${t.endedAt} is null`),
    check('token_leases_end_check', sql`(${t.endedAt} is null) = (${t.endReason} is null)`),
    check('token_leases_period_check', sql`${t.expiresAt} > ${t.leasedAt}`),
  ],
);

/**
 * Requests waiting for a free token (`onFull: "wait"`), first come first served by `id`. The
 * process that holds the request claims for it and keeps `alive_until` ahead of the clock; a row
 * whose `alive_until` has passed belongs to a process that is gone and no longer holds a place.
 */
export const leaseWaiters = pgTable(
  'lease_waiters',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    holderId: uuid('holder_id').notNull(),
    // The lease's audit fields and metadata, as the waiting request gave them.
    actorId: uuid('actor_id'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>(),
    ip: text('ip'),
    userAgent: text('user_agent'),
    requestId: text('request_id'),
    createdAt: createdAt(),
    aliveUntil: optionalTime('alive_until').notNull(),
  },
  (t) => [index('lease_waiters_alive_idx').on(t.aliveUntil)],
);

/**
 * A bulk import of users from a CSV file. The counts and the checkpoint are committed with each
 * batch of inserted users, so a worker that dies mid-file leaves exactly what it had done.
 */
export const userImports = pgTable(
  'user_imports',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    status: text('status', { enum: ['queued', 'processing', 'completed', 'failed'] })
      .notNull()
      .default('queued'),
    fileName: text('file_name').notNull(),
    storageKey: text('storage_key').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    createdBy: uuid('created_by').references(() => users.id),
    totalRows: integer('total_rows'),
    // Data records read so far, good or bad: the checkpoint a resumed job skips to.
    processedRows: integer('processed_rows').notNull().default(0),
    createdRows: integer('created_rows').notNull().default(0),
    duplicateRows: integer('duplicate_rows').notNull().default(0),
    invalidRows: integer('invalid_rows').notNull().default(0),
    // The first 1,000 bad rows: { line, message, row }.
    errors: jsonb('errors').$type<ImportError[]>().notNull().default([]),
    failureReason: text('failure_reason'),
    createdAt: createdAt(),
    startedAt: optionalTime('started_at'),
    finishedAt: optionalTime('finished_at'),
  },
  (t) => [
    index('user_imports_created_at_idx').on(t.createdAt.desc(), t.id.desc()),
    check('user_imports_status_check', sql`${t.status} in ('queued', 'processing', 'completed', 'failed')`),
  ],
);

export interface ImportError {
  line: number;
  message: string;
  row: string;
}

/**
 * Durable jobs: a transactional outbox. A job is written in the same transaction as the change
 * that asks for it, so it exists exactly when that change does. Embedded, the in-process runner
 * works from this table; with Redis, a relay hands pending rows to BullMQ and marks them relayed.
 * A finished job's row is deleted; a job given up stays, as `failed`, with its last error.
 */
export const jobs = pgTable(
  'jobs',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    // The job's name outside this database (its id on Redis): a restored or recreated database
    // hands out the same `id`s again, a random uid never.
    uid: uuid('uid').notNull().defaultRandom(),
    kind: text('kind').notNull(),
    payload: jsonb('payload').notNull(),
    status: text('status', { enum: ['pending', 'relayed', 'failed'] })
      .notNull()
      .default('pending'),
    createdAt: createdAt(),
    // The embedded runner: when the job may run next, and which runner holds it until when.
    runAt: optionalTime('run_at').notNull().defaultNow(),
    lockedBy: text('locked_by'),
    lockedUntil: optionalTime('locked_until'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    finishedAt: optionalTime('finished_at'),
    // The relay: the job's id on BullMQ, when it was handed over, and what Redis last said of it.
    queueId: text('queue_id'),
    relayedAt: optionalTime('relayed_at'),
    checkedAt: optionalTime('checked_at'),
    checkState: text('check_state', { enum: ['waiting', 'active', 'delayed'] }),
  },
  (t) => [
    index('jobs_due_idx').on(t.runAt, t.id).where(sql`${t.status} = 'pending'`),
    uniqueIndex('jobs_uid_key').on(t.uid),
    index('jobs_relayed_idx').on(t.checkedAt).where(sql`${t.status} = 'relayed'`),
    check('jobs_check_state_check', sql`${t.checkState} in ('waiting', 'active', 'delayed')`),
    check('jobs_status_check', sql`${t.status} in ('pending', 'relayed', 'failed')`),
  ],
);

/**
 * An endpoint an admin registered to hear about pool events. Deleting one only marks it: the
 * deliveries keep their endpoint, and a lease in flight that is writing a delivery for it never
 * waits on the delete nor fails on a vanished row (an UPDATE takes no lock a foreign key check
 * conflicts with). The secret is kept as given, since every delivery is signed with it.
 */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    url: text('url').notNull(),
    events: text('events').array().notNull(),
    description: text('description'),
    secret: text('secret').notNull(),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: createdAt(),
    deletedAt: optionalTime('deleted_at'),
  },
  (t) => [
    // The listing, and the audit trigger's lookup of who hears an event: both only live endpoints.
    index('webhook_endpoints_live_idx').on(t.createdAt.desc(), t.id.desc()).where(sql`${t.deletedAt} is null`),
  ],
);

/**
 * One event to deliver to one endpoint, written by a trigger on audit_logs in the transaction of
 * the pool change (with its job), and the outcome of its latest attempt.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    endpointId: belongsTo('endpoint_id', () => webhookEndpoints.id),
    event: text('event').notNull(),
    // The payload's `data` and `timestamp`, fixed when the event happened.
    data: jsonb('data').notNull(),
    occurredAt: optionalTime('occurred_at').notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] })
      .notNull()
      .default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    createdAt: createdAt(),
    deliveredAt: optionalTime('delivered_at'),
  },
  (t) => [
    index('webhook_deliveries_endpoint_idx').on(t.endpointId, t.createdAt.desc(), t.id.desc()),
    check('webhook_deliveries_status_check', sql`${t.status} in ('pending', 'delivered', 'failed')`),
  ],
);

/**
 * Values every process of a deployment must agree on and that the first start makes: an insert
 * that only one process can win decides them (see deployment-settings.sql.ts).
 */
export const deploymentSettings = pgTable('deployment_settings', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
  createdAt: createdAt(),
});

/** Which text of each SQL function source (`modules/<module>/functions/*.sql`) the database runs. */
export const sqlFunctionSources = pgTable('sql_function_sources', {
  file: text('file').primaryKey(),
  sha256: text('sha256').notNull(),
  appliedAt: timestamp('applied_at', { withTimezone: true, precision: 6 }).notNull().defaultNow(),
});

/**
 * Roles one process of the deployment plays at a time (exporting the gauges read from the
 * database): held until `expires_at`, renewed by the holder, taken over once it lapses.
 */
export const deploymentLeases = pgTable('deployment_leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true, precision: 6 }).notNull(),
});

/**
 * An uploaded file waiting for its import, when UPLOAD_STORAGE=database: every `api` and `worker`
 * reaches it through PostgreSQL. `size` stays null while the file is written, so a half-written
 * upload is never read; deleting the row deletes its chunks.
 */
export const uploads = pgTable('uploads', {
  key: text('key').primaryKey(),
  size: bigint('size', { mode: 'number' }),
  createdAt: createdAt(),
});

/** The bytes of an upload, in order, a few hundred KiB a row: written and read one row at a time. */
export const uploadChunks = pgTable(
  'upload_chunks',
  {
    key: text('key')
      .notNull()
      .references(() => uploads.key, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    data: bytea('data').notNull(),
  },
  (t) => [primaryKey({ name: 'upload_chunks_pkey', columns: [t.key, t.seq] })],
);
