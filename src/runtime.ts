import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { backgroundWork } from './background.js';
import type { Config } from './config.js';
import type { Deps } from './deps.js';
import type { Loop } from './infra/concurrency/interval-loop.js';
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
import { redisNamespace } from './infra/redis-namespace.js';
import { resolveJwtSecret } from './infra/secrets.js';
import { createDatabaseStorage } from './infra/storage/database-storage.js';
import { createFileStorage } from './infra/storage/file-storage.js';
import { registerMetricReaders } from './metric-readers.js';
import { recordJobFailure } from './modules/audit/job-failures.js';
import { createAccessCredentials } from './modules/auth/access-credentials.js';
import { preparePool } from './modules/tokens/tokens.background.js';

export interface RuntimeOptions {
  logger?: Logger;
  /** Run pending migrations before anything else. @defaultValue true */
  migrate?: boolean;
}

export interface Runtime extends Deps {
  /** What every Redis key of this deployment starts with: `REDIS_PREFIX`, then the deployment's id. */
  readonly redisPrefix: string;
  /** Starts running queued jobs in this process. */
  startWorkers(): Promise<void>;
  /** Closes everything this runtime opened: queue (after its running jobs), mailer, Redis, database. */
  close(): Promise<void>;
}

/** Wires the adapters the configuration asks for: PostgreSQL or PGlite, Redis or memory, SMTP or outbox. */
export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
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
    socketTimeoutMs: config.REDIS_SOCKET_TIMEOUT_MS,
  };
  let redis: Redis | undefined;
  let live: LiveState | undefined;
  try {
    if (options.migrate ?? true) {
      const applied = await database.migrate();
      logger.info({ applied }, applied === 0 ? 'no migration to apply' : `applied ${applied} migrations`);
    }
    await preparePool(database, config.TOKEN_POOL_SIZE);
    const prefix = await redisNamespace(database.db, config.REDIS_PREFIX);
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
      ? createBullmqQueue({
          ...jobs,
          redis,
          prefix,
          sendTimeoutMs: config.JOB_RELAY_TIMEOUT_MS,
          checkAfterMs: config.JOB_STUCK_SECONDS * 1000,
          closeTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
        })
      : createDatabaseQueue({ ...jobs, soleRunner: database.kind === 'pglite' });
    const mailer = createMailer({
      smtpUrl: config.MAIL_TRANSPORT === 'smtp' ? config.SMTP_URL : undefined,
      outboxDir: join(config.DATA_DIR, 'outbox'),
      timeoutMs: config.SMTP_TIMEOUT_MS,
    });
    const secret = await resolveJwtSecret(config.JWT_SECRET, database.db, config.DATA_DIR);
    const deps: Deps = {
      config,
      logger,
      database,
      queue,
      events: live.events,
      mailer,
      storage:
        config.UPLOAD_STORAGE === 'database'
          ? createDatabaseStorage(database)
          : createFileStorage(join(config.DATA_DIR, 'uploads')),
      progress: live.progress,
      rateLimiter: live.rateLimiter,
      accessCredentials: createAccessCredentials(secret, config.ACCESS_TOKEN_TTL_SECONDS),
      pings: { database: () => database.ping(), ...(live.ping ? { redis: live.ping } : {}) },
      metrics,
    };
    registerMetricReaders(deps);
    const connection = redis;
    const shared = live;
    let loops: Loop[] = [];
    return {
      ...deps,
      redisPrefix: prefix,
      async startWorkers() {
        const work = backgroundWork(deps);
        queue.process(
          work.flatMap((module) => module.jobs ?? []),
          { concurrency: config.WORKER_CONCURRENCY },
        );
        loops = work.flatMap((module) => module.start?.() ?? []);
      },
      async close() {
        // Background work first: a running job may still send mail or write to the database.
        await Promise.all(loops.map((loop) => loop.stop()));
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
