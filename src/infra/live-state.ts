import { createMemoryEventBus, createRedisEventBus, type EventBus } from './events/event-bus.js';
import type { Logger } from './logger.js';
import { createOutageGuard } from './outage-guard.js';
import { createMemoryProgressStore, createRedisProgressStore, type ProgressStore } from './progress/progress-store.js';
import { createMemoryRateLimiter, createRedisRateLimiter, type RateLimiter } from './rate-limit/rate-limiter.js';
import { closeRedis, createRequestRedis, type RedisTimeouts } from './redis.js';

/**
 * What processes share outside the database, all of it on a request's path: rate-limit counters,
 * live events, job progress. None of it is worth a request waiting for.
 */
export interface LiveState {
  readonly events: EventBus;
  readonly progress: ProgressStore;
  readonly rateLimiter: RateLimiter;
  /** Asks Redis whether it answers; absent when the state lives in this process. */
  readonly ping?: () => Promise<unknown>;
  close(): Promise<void>;
}

/** One process: the embedded default. */
export function createMemoryLiveState(): LiveState {
  const events = createMemoryEventBus();
  return {
    events,
    progress: createMemoryProgressStore(),
    rateLimiter: createMemoryRateLimiter(),
    close: () => events.close(),
  };
}

export interface RedisLiveStateOptions extends RedisTimeouts {
  prefix: string;
  logger: Logger;
}

/**
 * Shared through Redis, on a connection of its own whose commands give up quickly; one guard for
 * the three, so an outage is noticed, and logged, once.
 */
export function createRedisLiveState(url: string, options: RedisLiveStateOptions): LiveState {
  const { prefix, logger } = options;
  const redis = createRequestRedis(url, options);
  const guard = createOutageGuard({
    name: 'Redis',
    whileDown: 'rate limits count per process; live events and progress are dropped until it is back',
    probe: () => redis.ping(),
    logger,
  });
  const events = createRedisEventBus(redis, prefix, logger, guard);
  return {
    events,
    progress: createRedisProgressStore(redis, prefix, guard),
    rateLimiter: createRedisRateLimiter(redis, prefix, guard),
    ping: () => redis.ping(),
    async close() {
      await events.close();
      await closeRedis(redis, options.commandTimeoutMs);
    },
  };
}
