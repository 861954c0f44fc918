import type { Registry } from 'prom-client';
import type { Config } from './config.js';
import type { Database } from './infra/db/database.js';
import type { EventBus } from './infra/events/event-bus.js';
import type { Logger } from './infra/logger.js';
import type { Mailer } from './infra/mail/mailer.js';
import type { ProgressStore } from './infra/progress/progress-store.js';
import type { JobQueue } from './infra/queue/queue.js';
import type { RateLimiter } from './infra/rate-limit/rate-limiter.js';
import type { UploadStorage } from './infra/storage/upload-storage.js';
import type { AccessCredentials } from './modules/auth/access-credentials.js';
import type { DependencyPings } from './modules/health/dependency-pings.js';

/**
 * What the app and the job handlers are built from; entry points and tests make one. Each module
 * declares the part it needs (`TokensDeps`, `AuthDeps`, …), and this satisfies them all.
 */
export interface Deps {
  readonly config: Config;
  readonly logger: Logger;
  readonly database: Database;
  readonly queue: JobQueue;
  readonly events: EventBus;
  readonly mailer: Mailer;
  readonly storage: UploadStorage;
  readonly progress: ProgressStore;
  readonly rateLimiter: RateLimiter;
  readonly accessCredentials: AccessCredentials;
  readonly pings: DependencyPings;
  /** This process's Prometheus metrics. */
  readonly metrics: Registry;
}
