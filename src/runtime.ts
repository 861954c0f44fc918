import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { Deps } from './deps.js';
import { createDatabase } from './infra/db/database.js';
import { createMemoryEventBus, createRedisEventBus } from './infra/events/event-bus.js';
import { createLogger, type Logger } from './infra/logger.js';
import { createMailer } from './infra/mail/mailer.js';
import { createMemoryProgressStore, createRedisProgressStore } from './infra/progress/progress-store.js';
import { createBullmqQueue } from './infra/queue/bullmq-queue.js';
import { createMemoryQueue } from './infra/queue/memory-queue.js';
import { createMemoryRateLimiter, createRedisRateLimiter } from './infra/rate-limit/rate-limiter.js';
import { createRedis } from './infra/redis.js';
import { resolveJwtSecret } from './infra/secrets.js';
import { createFileStorage } from './infra/storage/upload-storage.js';
import { jobRegistrations } from './jobs.js';
import { createAccessTokens } from './modules/auth/access-tokens.js';
import { importUsersJob } from './modules/imports/import-users.job.js';
import { findUnfinishedImports } from './modules/imports/imports.sql.js';
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
  const database = await createDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR });
  let redis: Redis | undefined;
  try {
    if (options.migrate ?? true) await database.migrate();
    await ensureTokenPool(database.db, config.TOKEN_POOL_SIZE);
    redis = config.REDIS_URL ? createRedis(config.REDIS_URL) : undefined;
    const queue = redis ? createBullmqQueue({ redis, logger, prefix }) : createMemoryQueue(logger);
    const events = redis ? createRedisEventBus(redis, prefix, logger) : createMemoryEventBus();
    const mailer = createMailer({ smtpUrl: config.SMTP_URL, outboxDir: join(config.DATA_DIR, 'outbox') });
    const secret = await resolveJwtSecret(config.JWT_SECRET, config.DATA_DIR);
    const deps: Deps = {
      config,
      logger,
      database,
      db: database.db,
      queue,
      events,
      mailer,
      storage: createFileStorage(join(config.DATA_DIR, 'uploads')),
      progress: redis ? createRedisProgressStore(redis, prefix) : createMemoryProgressStore(),
      rateLimiter: redis ? createRedisRateLimiter(redis, prefix) : createMemoryRateLimiter(),
      accessTokens: createAccessTokens(secret, config.ACCESS_TOKEN_TTL_SECONDS),
    };
    const connection = redis;
    let sweeper: Sweeper | undefined;
    return {
      ...deps,
      async startWorkers() {
        queue.process(jobRegistrations(deps), { concurrency: config.WORKER_CONCURRENCY });
        // The in-process queue forgets its jobs when the process stops: queue the unfinished
        // imports again (a job resumes from its checkpoint). Redis remembers them by itself.
        if (!redis) {
          for (const importId of await findUnfinishedImports(database.db))
            await queue.enqueue(importUsersJob, { importId });
        }
        const tokens = createTokensService(deps);
        sweeper = startSweeper(() => tokens.expireDue(), logger);
      },
      async close() {
        // Background work first: a running job may still send mail or write to the database.
        await sweeper?.stop();
        await queue.close();
        await events.close();
        await mailer.close();
        await connection?.quit();
        await database.close();
      },
    };
  } catch (error) {
    redis?.disconnect();
    await database.close().catch(() => {});
    throw error;
  }
}
