import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

/** A production environment that passes every check; each refusal test takes one thing away. */
const PRODUCTION = {
  NODE_ENV: 'production',
  JWT_SECRET: 'x'.repeat(32),
  SMTP_URL: 'smtp://mail.internal:587',
  DATA_DIR: '/var/lib/tokenpool',
};

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      DATA_DIR: './data',
      PUBLIC_URL: 'http://localhost:3000',
      ACCESS_TOKEN_TTL_SECONDS: 900,
      REFRESH_TOKEN_TTL_SECONDS: 2_592_000,
      TOKEN_POOL_SIZE: 100,
      TOKEN_TTL_SECONDS: 120,
      WORKER_CONCURRENCY: 8,
      MAX_UPLOAD_BYTES: 104_857_600,
      LOGIN_RATE_LIMIT: 10,
      LOG_LEVEL: 'info',
      DB_CONNECT_TIMEOUT_MS: 2000,
      DB_QUERY_TIMEOUT_MS: 5000,
      DB_IDLE_TIMEOUT_MS: 10_000,
      REDIS_CONNECT_TIMEOUT_MS: 2000,
      REDIS_COMMAND_TIMEOUT_MS: 1000,
      READINESS_TIMEOUT_MS: 800,
      WEBHOOK_RETRY_SECONDS: 86_400,
      WEBHOOK_CONNECT_TIMEOUT_MS: 5000,
      WEBHOOK_RESPONSE_TIMEOUT_MS: 10_000,
      WEBHOOK_ALLOW_PRIVATE: false,
      REGISTRATION: 'open',
      REGISTER_RATE_LIMIT: 10,
      MAX_STREAMS_PER_USER: 20,
      REQUEST_TIMEOUT_MS: 30_000,
      KEEP_ALIVE_TIMEOUT_MS: 10_000,
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.UPLOAD_STORAGE).toBe('disk');
  });

  it('keeps uploads in PostgreSQL when there is one, unless UPLOAD_STORAGE says disk', () => {
    const DATABASE_URL = 'postgres://db.example/tokenpool';
    expect(loadConfig({ DATABASE_URL }).UPLOAD_STORAGE).toBe('database');
    expect(loadConfig({ DATABASE_URL, UPLOAD_STORAGE: 'disk' }).UPLOAD_STORAGE).toBe('disk');
  });

  it('converts numbers and derives PUBLIC_URL from PORT', () => {
    const config = loadConfig({ PORT: '8080', TOKEN_POOL_SIZE: '10', PUBLIC_URL: '' });
    expect(config.PORT).toBe(8080);
    expect(config.TOKEN_POOL_SIZE).toBe(10);
    expect(config.PUBLIC_URL).toBe('http://localhost:8080');
    expect(loadConfig({ PUBLIC_URL: 'https://pool.example.com/' }).PUBLIC_URL).toBe('https://pool.example.com');
  });

  it.each([
    [{ PORT: 'abc' }, /^PORT must be integer/],
    [{ PORT: '70000' }, /^PORT /],
    [{ TOKEN_POOL_SIZE: '0' }, /^TOKEN_POOL_SIZE /],
    [{ DB_QUERY_TIMEOUT_MS: '0' }, /^DB_QUERY_TIMEOUT_MS /],
    [{ REDIS_COMMAND_TIMEOUT_MS: 'soon' }, /^REDIS_COMMAND_TIMEOUT_MS must be integer/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL has a value that is not allowed/],
    [{ REGISTRATION: 'invite-only' }, /^REGISTRATION has a value that is not allowed/],
    [{ MAX_STREAMS_PER_USER: '0' }, /^MAX_STREAMS_PER_USER /],
    [{ REQUEST_TIMEOUT_MS: '0' }, /^REQUEST_TIMEOUT_MS /],
    [{ WEBHOOK_ALLOW_PRIVATE: 'maybe' }, /^WEBHOOK_ALLOW_PRIVATE must be boolean/],
    [{ DATABASE_URL: 'not a url' }, /^DATABASE_URL must match format/],
    [{ UPLOAD_STORAGE: 'tape' }, /^UPLOAD_STORAGE has a value that is not allowed/],
    [{ UPLOAD_STORAGE: 's3://bucket/uploads' }, /^UPLOAD_STORAGE s3:\/\/… is not supported yet/],
    [{ ADMIN_EMAIL: 'root@example.com' }, /^ADMIN_EMAIL and ADMIN_PASSWORD must be set together/],
    [{ NODE_ENV: 'production' }, /^JWT_SECRET must be set to at least 32 bytes/],
    [{ NODE_ENV: 'production', JWT_SECRET: 'short' }, /^JWT_SECRET /],
    [{ ...PRODUCTION, SMTP_URL: undefined }, /^SMTP_URL must be set when NODE_ENV=production/],
    [{ ...PRODUCTION, DATA_DIR: 'data' }, /^DATA_DIR must be an absolute path when NODE_ENV=production/],
    [{ MAIL_TRANSPORT: 'smtp' }, /^MAIL_TRANSPORT=smtp needs SMTP_URL/],
    [{ MAIL_TRANSPORT: 'pigeon' }, /^MAIL_TRANSPORT has a value that is not allowed/],
  ])('refuses %o with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('lets create-admin take ADMIN_PASSWORD or ADMIN_EMAIL alone', () => {
    const options = { adminPair: false };
    expect(loadConfig({ ADMIN_PASSWORD: 'long enough' }, options).ADMIN_PASSWORD).toBe('long enough');
    expect(loadConfig({ ADMIN_EMAIL: 'root@example.com' }, options).ADMIN_EMAIL).toBe('root@example.com');
  });

  it('never echoes a secret in its error', () => {
    expect(() => loadConfig({ ADMIN_EMAIL: 'a@b.co', ADMIN_PASSWORD: 'short' })).toThrow(/ADMIN_PASSWORD.*\*\*\*/);
  });

  it('accepts production with a long secret, an SMTP server and an absolute data directory', () => {
    expect(loadConfig(PRODUCTION)).toMatchObject({ NODE_ENV: 'production', MAIL_TRANSPORT: 'smtp' });
  });

  it('keeps e-mails as files without SMTP_URL, which production must ask for by name', () => {
    expect(loadConfig({}).MAIL_TRANSPORT).toBe('outbox');
    expect(loadConfig({ ...PRODUCTION, SMTP_URL: undefined, MAIL_TRANSPORT: 'outbox' }).MAIL_TRANSPORT).toBe('outbox');
    expect(loadConfig({ SMTP_URL: 'smtp://mail:25', MAIL_TRANSPORT: 'outbox' }).MAIL_TRANSPORT).toBe('outbox');
  });
});
