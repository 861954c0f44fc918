import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { Deps } from './deps.js';
import { createDatabase } from './infra/db/database.js';
import { createMemoryLiveState, createRedisLiveState, type LiveState } from './infra/live-state.js';
import { createLogger, type Logger } from './infra/logger.js';
import { createMailer } from './infra/mail/mailer.js';
import { joinClusterMetrics } from './infra/metrics/cluster-metrics.js';
import { createMetricsRegistry } from './infra/metrics/metrics.js';
import { createBullmqQueue } from './infra/queue/bullmq-queue.js';
import { createDatabaseQueue } from './infra/queue/database-queue.js';
import { jobCounters } from './infra/queue/jobs.metrics.js';
import { closeRedis, createRedis } from './infra/redis.js';
import { resolveJwtSecret } from './infra/secrets.js';
import { createFileStorage } from './infra/storage/upload-storage.js';
import { jobRegistrations } from './jobs.js';
import { registerMetricReaders } from './metric-readers.js';
import { recordJobFailure } from './modules/audit/job-failures.js';
import { createAccessTokens } from './modules/auth/access-tokens.js';
import { type Sweeper, startSweeper } from './modules/tokens/expiry-sweeper.js';
import { createTokensService } from './modules/tokens/tokens.service.js';
import { ensureTokenPool } from './modules/tokens/tokens.sql.js';

export interface RuntimeOptions {
  logger?: Logger;
  /** Run pending migrations before anything else. @defaultValue true */
  migrate?: boolean;
}

export interface Runtime extends Deps {
  /** Starts running queued jobs in this process. */
  startWorkers(): Promise<void>;
  /** Closes everything this runtime opened: queue (after its running jobs), mailer, Redis, database. */
  close(): Promise<void>;
}

/** Wires the adapters the configuration asks for: PostgreSQL or PGlite, Redis or memory, SMTP or outbox. */
export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const prefix = config.REDIS_PREFIX;
  const database = await createDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
    queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS,
    idleTimeoutMs: config.DB_IDLE_TIMEOUT_MS,
  });
  const redisTimeouts = {
    connectTimeoutMs: config.REDIS_CONNECT_TIMEOUT_MS,
    commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
  };
  let redis: Redis | undefined;
  let live: LiveState | undefined;
  try {
    if (options.migrate ?? true) {
      const applied = await database.migrate();
      logger.info({ applied }, applied === 0 ? 'no migration to apply' : `applied ${applied} migrations`);
    }
    // A large pool takes longer to make than any request may take.
    await database.withoutTimeouts((db) => ensureTokenPool(db, config.TOKEN_POOL_SIZE));
    redis = config.REDIS_URL ? createRedis(config.REDIS_URL, redisTimeouts) : undefined;
    live = config.REDIS_URL
      ? createRedisLiveState(config.REDIS_URL, { ...redisTimeouts, prefix, logger })
      : createMemoryLiveState();
    const metrics = createMetricsRegistry();
    joinClusterMetrics(metrics);
    const jobs = {
      db: database.db,
      logger,
      pollMs: config.JOB_POLL_MS,
      onFailure: recordJobFailure(database.db),
      counters: jobCounters(metrics),
    };
    const queue = redis
      ? createBullmqQueue({ ...jobs, redis, prefix, sendTimeoutMs: config.JOB_RELAY_TIMEOUT_MS })
      : createDatabaseQueue({ ...jobs, soleRunner: database.kind === 'pglite' });
    const mailer = createMailer({
      smtpUrl: config.SMTP_URL,
      outboxDir: join(config.DATA_DIR, 'outbox'),
      timeoutMs: config.SMTP_TIMEOUT_MS,
    });
    const secret = await resolveJwtSecret(config.JWT_SECRET, config.DATA_DIR);
    const deps: Deps = {
      config,
      logger,
      database,
      db: database.db,
      queue,
      events: live.events,
      mailer,
      storage: createFileStorage(join(config.DATA_DIR, 'uploads')),
      progress: live.progress,
      rateLimiter: live.rateLimiter,
      accessTokens: createAccessTokens(secret, config.ACCESS_TOKEN_TTL_SECONDS),
      pings: { database: () => database.ping(), ...(live.ping ? { redis: live.ping } : {}) },
      metrics,
    };
    registerMetricReaders(deps);
    const connection = redis;
    const shared = live;
    let sweeper: Sweeper | undefined;
    return {
      ...deps,
      async startWorkers() {
        queue.process(jobRegistrations(deps), { concurrency: config.WORKER_CONCURRENCY });
        const tokens = createTokensService(deps);
        sweeper = startSweeper(() => tokens.expireDue(), logger);
      },
      async close() {
        // Background work first: a running job may still send mail or write to the database.
        await sweeper?.stop();
        await queue.close();
        await shared.close();
        await mailer.close();
        if (connection) await closeRedis(connection, config.REDIS_COMMAND_TIMEOUT_MS);
        await database.close();
      },
    };
  } catch (error) {
    redis?.disconnect();
    await live?.close().catch(() => {});
    await database.close().catch(() => {});
    throw error;
  }
}
