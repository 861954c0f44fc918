import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, inject } from 'vitest';
import { buildApp } from '../../src/app.js';
import { type Config, type EnvInput, loadConfig } from '../../src/config.js';
import type { Logger } from '../../src/infra/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { client } from './client.js';
import { databaseUrlFor, testEnvironment } from './environment.js';
import { type Mailbox, outboxMailbox, startSmtpMailbox } from './mailbox.js';
import { deleteRedisKeys } from './redis-keys.js';

export interface Harness {
  app: FastifyInstance;
  runtime: Runtime;
  config: Config;
  mailbox: Mailbox;
  /** Environment that points another process at the same database, Redis prefix and mailbox. */
  env: EnvInput;
  redisPrefix: string;
  /** Stops the app and runtime as a shutdown would, then starts them again on the same database. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** A fresh, isolated copy of PostgreSQL for one test file, cloned from the migrated template. */
export async function createTestDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> } | undefined> {
  const { databaseUrl } = testEnvironment;
  const template = inject('templateDatabase');
  if (!databaseUrl || !template) return undefined;
  const name = `tokenpool_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`create database "${name}" template "${template}"`);
  await admin.end();
  return {
    name,
    url: databaseUrlFor(databaseUrl, name),
    async drop() {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`drop database if exists "${name}" with (force)`);
      await client.end();
    },
  };
}

interface HarnessOptions {
  /** Start the background workers and the expiry sweep (default true). */
  workers?: boolean;
  /** The service's logger; silent unless a test reads the logs. */
  logger?: Logger;
  /** Rewrites the environment once the test database exists: to reach it through a proxy, say. */
  environment?: (env: EnvInput) => EnvInput;
}

/**
 * Starts the service as one process would, on real PostgreSQL, Redis and SMTP when the suite has
 * them, otherwise on the embedded defaults (PGlite, in-process jobs, `.eml` outbox).
 */
export async function startHarness(overrides: EnvInput = {}, options: HarnessOptions = {}): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tokenpool-test-'));
  const database = await createTestDatabase();
  const redisPrefix = `tokenpool-test-${randomBytes(6).toString('hex')}`;
  const smtp = testEnvironment.redisUrl || database ? await startSmtpMailbox() : undefined;
  const mailbox = smtp ?? outboxMailbox(dataDir);
  const base: EnvInput = {
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    DATABASE_URL: database?.url,
    REDIS_URL: testEnvironment.redisUrl,
    SMTP_URL: mailbox.smtpUrl,
    PUBLIC_URL: 'http://tokenpool.test',
    LOGIN_RATE_LIMIT: '1000',
    AUTH_RATE_LIMIT: '100000',
    REGISTER_RATE_LIMIT: '100000',
    // One process per service process a test starts, unless it asks for a group.
    WEB_CONCURRENCY: '1',
    LOG_LEVEL: 'silent',
    REDIS_PREFIX: redisPrefix,
    ...overrides,
  };
  const env = options.environment?.(base) ?? base;
  const config = loadConfig(env);
  const start = async () => {
    const runtime = await createRuntime(config, { logger: options.logger ?? pino({ level: 'silent' }) });
    if (options.workers ?? true) await runtime.startWorkers();
    const app = await buildApp(runtime);
    await app.ready();
    return { app, runtime };
  };
  const harness: Harness = {
    ...(await start()),
    config,
    mailbox,
    env,
    redisPrefix,
    async restart() {
      await harness.app.close();
      await harness.runtime.close();
      Object.assign(harness, await start());
    },
    async close() {
      await harness.app.close();
      await harness.runtime.close();
      await mailbox.close();
      if (config.REDIS_URL) await deleteRedisKeys(config.REDIS_URL, redisPrefix);
      await database?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}

export interface HarnessContext {
  harness: Harness;
  api: ReturnType<typeof client>;
}

/**
 * One harness for a whole test file, or, called inside a `describe`, for that block: started before
 * its first test, closed after its last. The fields are filled in by then; read them inside tests
 * and hooks. Further setup goes in a `beforeAll` registered after this call (hooks run in that
 * order, and their `afterAll`s in reverse, so the harness is closed last).
 *
 * This is how a test gets a harness. Call `startHarness` directly only in a test that needs one of
 * its own: a different environment for that one test, a restart, a fault proxy in front of its
 * database or Redis. Such a test closes it itself.
 */
export function useHarness(overrides: EnvInput = {}, options: HarnessOptions = {}): HarnessContext {
  const context = {} as HarnessContext;
  beforeAll(async () => {
    context.harness = await startHarness(overrides, options);
    context.api = client(context.harness.app);
  });
  // Undefined when the start failed: that failure is the one to report.
  afterAll(() => context.harness?.close());
  return context;
}
