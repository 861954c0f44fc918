import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import Type, { type Static } from 'typebox';
import { Value } from 'typebox/value';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const PositiveInt = Type.Integer({ minimum: 1 });
const Url = Type.String({ format: 'uri' });

/**
 * The environment, as the service reads it. This module is the only reader of `process.env`;
 * everything else receives a parsed {@link Config}.
 */
const EnvSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], {
    default: 'development',
  }),
  PORT: Type.Integer({ ...Port, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  DATA_DIR: Type.String({ minLength: 1, default: './data' }),
  DATABASE_URL: Type.Optional(Url),
  REDIS_URL: Type.Optional(Url),
  REDIS_PREFIX: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$', default: 'tokenpool' }),
  // How long anything waits on PostgreSQL or Redis before it gives up: no request may hang on a
  // dependency that is away. docs/operations.md's table says what each one bounds.
  DB_CONNECT_TIMEOUT_MS: Type.Integer({ ...PositiveInt, maximum: 60_000, default: 2000 }),
  DB_QUERY_TIMEOUT_MS: Type.Integer({ ...PositiveInt, maximum: 600_000, default: 5000 }),
  DB_IDLE_TIMEOUT_MS: Type.Integer({ ...PositiveInt, default: 10_000 }),
  REDIS_CONNECT_TIMEOUT_MS: Type.Integer({ ...PositiveInt, maximum: 60_000, default: 2000 }),
  REDIS_COMMAND_TIMEOUT_MS: Type.Integer({ ...PositiveInt, maximum: 60_000, default: 1000 }),
  // Above BullMQ's longest wait for a job (10 s, then 1 s of its own watchdog): a worker waiting is never cut.
  REDIS_SOCKET_TIMEOUT_MS: Type.Integer({ minimum: 12_000, maximum: 600_000, default: 15_000 }),
  READINESS_TIMEOUT_MS: Type.Integer({ ...PositiveInt, maximum: 10_000, default: 800 }),
  SMTP_URL: Type.Optional(Url),
  // `outbox` writes e-mails as files under DATA_DIR/outbox; the default with no SMTP_URL, but
  // production must say so, so that a forgotten SMTP_URL cannot swallow every e-mail unseen.
  MAIL_TRANSPORT: Type.Optional(Type.Union([Type.Literal('smtp'), Type.Literal('outbox')])),
  PUBLIC_URL: Type.Optional(Url),
  JWT_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ ...PositiveInt, default: 900 }),
  REFRESH_TOKEN_TTL_SECONDS: Type.Integer({ ...PositiveInt, default: 2_592_000 }),
  TOKEN_POOL_SIZE: Type.Integer({ ...PositiveInt, maximum: 10_000_000, default: 100 }),
  TOKEN_TTL_SECONDS: Type.Integer({ ...PositiveInt, default: 120 }),
  WORKER_CONCURRENCY: Type.Integer({ ...PositiveInt, maximum: 1000, default: 8 }),
  // Durable jobs: how long a failing job is retried before it is given up (and recorded as
  // job.failed), the first retry's delay, the cap on a retry's delay, how often the runner and the
  // relay look for jobs that no wake-up announced (a crash, another process), and how long the
  // relay waits for Redis before it leaves the jobs for its next try.
  MAIL_RETRY_SECONDS: Type.Integer({ ...PositiveInt, default: 3600 }),
  IMPORT_RETRY_SECONDS: Type.Integer({ ...PositiveInt, default: 900 }),
  JOB_BACKOFF_MS: Type.Integer({ ...PositiveInt, default: 1000 }),
  JOB_MAX_BACKOFF_MS: Type.Integer({ ...PositiveInt, default: 300_000 }),
  JOB_POLL_MS: Type.Integer({ ...PositiveInt, maximum: 60_000, default: 1000 }),
  JOB_RELAY_TIMEOUT_MS: Type.Integer({ ...PositiveInt, maximum: 60_000, default: 5000 }),
  // How long a job may wait to start before it counts as stuck (metric, readiness), and how often
  // Redis is asked whether each relayed job is still queued there (relayed again if not).
  JOB_STUCK_SECONDS: Type.Integer({ ...PositiveInt, maximum: 86_400, default: 300 }),
  SMTP_TIMEOUT_MS: Type.Integer({ ...PositiveInt, maximum: 600_000, default: 10_000 }),
  // Webhooks: how long a delivery is retried, the cap on the delay between two attempts (the first
  // is JOB_BACKOFF_MS), the timeouts of one attempt, and whether endpoints may be on loopback,
  // private or link-local addresses (never in production unless the network is trusted).
  WEBHOOK_RETRY_SECONDS: Type.Integer({ ...PositiveInt, default: 86_400 }),
  WEBHOOK_MAX_BACKOFF_MS: Type.Integer({ ...PositiveInt, default: 3_600_000 }),
  WEBHOOK_CONNECT_TIMEOUT_MS: Type.Integer({ ...PositiveInt, maximum: 60_000, default: 5000 }),
  WEBHOOK_RESPONSE_TIMEOUT_MS: Type.Integer({ ...PositiveInt, maximum: 120_000, default: 10_000 }),
  WEBHOOK_ALLOW_PRIVATE: Type.Boolean({ default: false }),
  // The dashboard's source maps: served unless NODE_ENV=production, where only this turns them on.
  DASHBOARD_SOURCE_MAPS: Type.Optional(Type.Boolean()),
  ADMIN_EMAIL: Type.Optional(Type.String({ format: 'email' })),
  ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 8, maxLength: 128 })),
  MAX_UPLOAD_BYTES: Type.Integer({ ...PositiveInt, default: 104_857_600 }),
  // Where an upload waits for its import: `database` (the default with DATABASE_URL, so every
  // process reaches it) or `disk` under DATA_DIR/uploads (the embedded default).
  UPLOAD_STORAGE: Type.Optional(Type.Union([Type.Literal('database'), Type.Literal('disk')])),
  // Failed logins per minute for one e-mail from one IP (three times as many from one IP across
  // e-mails), and forgot-password requests per minute per IP and per e-mail.
  LOGIN_RATE_LIMIT: Type.Integer({ ...PositiveInt, default: 10 }),
  // Requests per minute from one IP to each unauthenticated route that costs work, and failed
  // attempts to open an event stream.
  AUTH_RATE_LIMIT: Type.Integer({ ...PositiveInt, default: 60 }),
  // `closed`: accounts come only from admins' invitations, imports and service accounts.
  REGISTRATION: Type.Union([Type.Literal('open'), Type.Literal('closed')], { default: 'open' }),
  // Registrations a minute from one IP: tighter than AUTH_RATE_LIMIT, each one a hash and an e-mail.
  REGISTER_RATE_LIMIT: Type.Integer({ ...PositiveInt, default: 10 }),
  // Connections: event streams one user may hold open at once (across processes), how long a
  // request's headers and body may take to arrive, and how long an idle keep-alive connection stays.
  MAX_STREAMS_PER_USER: Type.Integer({ ...PositiveInt, maximum: 10_000, default: 20 }),
  REQUEST_TIMEOUT_MS: Type.Integer({ ...PositiveInt, maximum: 600_000, default: 30_000 }),
  KEEP_ALIVE_TIMEOUT_MS: Type.Integer({ ...PositiveInt, maximum: 600_000, default: 10_000 }),
  // HTTP processes `api` and `serve` run; default: one per core with PostgreSQL and Redis, else 1.
  WEB_CONCURRENCY: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
  // Where a `worker` process serves its /metrics and health.
  WORKER_PORT: Type.Integer({ ...Port, default: 3001 }),
  // When set, GET /metrics needs `Authorization: Bearer <it>`; unset leaves it open.
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  // The longest a SIGTERM waits for requests and jobs in flight before the process exits anyway.
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ ...PositiveInt, maximum: 30_000, default: 30_000 }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
});

type Env = Static<typeof EnvSchema>;

export type Config = Omit<Env, 'PUBLIC_URL' | 'WEB_CONCURRENCY' | 'MAIL_TRANSPORT' | 'UPLOAD_STORAGE'> & {
  PUBLIC_URL: string;
  WEB_CONCURRENCY: number;
  MAIL_TRANSPORT: 'smtp' | 'outbox';
  UPLOAD_STORAGE: NonNullable<Env['UPLOAD_STORAGE']>;
};

export type EnvInput = Record<string, string | undefined>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const MIN_PRODUCTION_SECRET_BYTES = 32;

export interface LoadConfigOptions {
  /**
   * Whether ADMIN_EMAIL and ADMIN_PASSWORD must come together: a start needs both to make the
   * admin, while `create-admin` takes the missing one from its flags. @defaultValue true
   */
  adminPair?: boolean;
}

/** Parses the environment once; a bad value throws a {@link ConfigError} naming the variable. */
export function loadConfig(input: EnvInput = process.env, { adminPair = true }: LoadConfigOptions = {}): Config {
  const known = Object.keys(EnvSchema.properties);
  // An empty variable means "unset", as it does for most tools that read the environment.
  const raw = Object.fromEntries(
    known.flatMap((key) => {
      const value = input[key];
      return value === undefined || value.trim() === '' ? [] : [[key, value.trim()]];
    }),
  );
  // The specification names this form; until it exists, say so rather than "not allowed".
  if (/^s3:\/\//i.test(String(raw.UPLOAD_STORAGE ?? ''))) {
    throw new ConfigError('UPLOAD_STORAGE s3://… is not supported yet: use database or disk');
  }
  const env = Value.Convert(EnvSchema, Value.Default(EnvSchema, raw));
  const [error] = Value.Errors(EnvSchema, env);
  if (error) {
    const variable = error.instancePath.replace(/^\//, '') || 'environment';
    const given = raw[variable] === undefined ? '' : ` (got ${JSON.stringify(redact(variable, raw[variable]))})`;
    throw new ConfigError(`${variable} ${describe(error.message)}${given}`);
  }
  const parsed = env as Env;
  const mailTransport = parsed.MAIL_TRANSPORT ?? (parsed.SMTP_URL ? 'smtp' : 'outbox');
  if (mailTransport === 'smtp' && !parsed.SMTP_URL) throw new ConfigError('MAIL_TRANSPORT=smtp needs SMTP_URL');
  if (parsed.NODE_ENV === 'production') refuseDevelopmentDefaults(parsed);
  if (adminPair && Boolean(parsed.ADMIN_EMAIL) !== Boolean(parsed.ADMIN_PASSWORD)) {
    throw new ConfigError('ADMIN_EMAIL and ADMIN_PASSWORD must be set together');
  }
  // Several HTTP processes share everything through PostgreSQL and Redis: PGlite belongs to one
  // process, and without Redis each process would keep its own events and rate limits.
  const shared = Boolean(parsed.DATABASE_URL && parsed.REDIS_URL);
  if ((parsed.WEB_CONCURRENCY ?? 1) > 1 && !shared) {
    throw new ConfigError('WEB_CONCURRENCY above 1 needs DATABASE_URL and REDIS_URL');
  }
  return {
    ...parsed,
    MAIL_TRANSPORT: mailTransport,
    PUBLIC_URL: (parsed.PUBLIC_URL ?? `http://localhost:${parsed.PORT}`).replace(/\/+$/, ''),
    WEB_CONCURRENCY: parsed.WEB_CONCURRENCY ?? (shared ? availableParallelism() : 1),
    UPLOAD_STORAGE: parsed.UPLOAD_STORAGE ?? (parsed.DATABASE_URL ? 'database' : 'disk'),
  };
}

/** What serves a laptop but must not reach production unnoticed: each stops the start with one line. */
function refuseDevelopmentDefaults(parsed: Env): void {
  const bytes = parsed.JWT_SECRET ? Buffer.byteLength(parsed.JWT_SECRET) : 0;
  if (bytes < MIN_PRODUCTION_SECRET_BYTES) {
    throw new ConfigError(
      `JWT_SECRET must be set to at least ${MIN_PRODUCTION_SECRET_BYTES} bytes when NODE_ENV=production`,
    );
  }
  if (!parsed.SMTP_URL && parsed.MAIL_TRANSPORT !== 'outbox') {
    throw new ConfigError(
      'SMTP_URL must be set when NODE_ENV=production (or MAIL_TRANSPORT=outbox to keep e-mails as files in DATA_DIR/outbox)',
    );
  }
  // Relative to whatever directory the process was started from: a restart elsewhere would find
  // another, empty data directory.
  if (!isAbsolute(parsed.DATA_DIR)) {
    throw new ConfigError(
      `DATA_DIR must be an absolute path when NODE_ENV=production (got ${JSON.stringify(parsed.DATA_DIR)})`,
    );
  }
}

function describe(message: string): string {
  return message === 'must match a schema in anyOf' || message === 'must be equal to constant'
    ? 'has a value that is not allowed'
    : message;
}

function redact(variable: string, value: unknown): unknown {
  return /SECRET|PASSWORD|_URL/.test(variable) ? '***' : value;
}
