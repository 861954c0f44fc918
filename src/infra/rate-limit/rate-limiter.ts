import type { Redis } from 'ioredis';
import type { OutageGuard } from '../outage-guard.js';

export interface RateLimitResult {
  allowed: boolean;
  /** Milliseconds until the window that refused this hit ends. */
  retryAfterMs: number;
}

/** Fixed-window counters: at most `limit` hits per key in each window of `windowMs`. */
export interface RateLimiter {
  hit(key: string, limit: number, windowMs: number): Promise<RateLimitResult>;
  /** The hits counted in the key's current window, without adding one. */
  count(key: string): Promise<{ hits: number; retryAfterMs: number }>;
  /** Forgets the key's hits, as a successful login does for its failures. */
  reset(key: string): Promise<void>;
}

/** One process only: the embedded default. */
export function createMemoryRateLimiter(now: () => number = Date.now): RateLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>();
  return {
    async hit(key, limit, windowMs) {
      const time = now();
      // Drop expired windows as we go, so the map cannot grow without bound.
      if (windows.size > 10_000) {
        for (const [k, w] of windows) if (w.resetAt <= time) windows.delete(k);
      }
      let window = windows.get(key);
      if (!window || window.resetAt <= time) {
        window = { count: 0, resetAt: time + windowMs };
        windows.set(key, window);
      }
      window.count += 1;
      return { allowed: window.count <= limit, retryAfterMs: window.resetAt - time };
    },
    async count(key) {
      const window = windows.get(key);
      const time = now();
      return !window || window.resetAt <= time
        ? { hits: 0, retryAfterMs: 0 }
        : { hits: window.count, retryAfterMs: window.resetAt - time };
    },
    async reset(key) {
      windows.delete(key);
    },
  };
}

// INCR and the first PEXPIRE in one script, so a crash between them cannot leave a counter
// that never expires.
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return { count, redis.call('PTTL', KEYS[1]) }
`;

/**
 * Shared by every process that uses the same Redis. While Redis is away each process counts on
 * its own (the limits hold per process) rather than let a login wait on Redis or go unlimited.
 */
export function createRedisRateLimiter(redis: Redis, prefix: string, guard: OutageGuard): RateLimiter {
  const local = createMemoryRateLimiter();
  const redisKey = (key: string) => `${prefix}:rate:${key}`;
  return {
    count(key) {
      return guard.run(
        async () => {
          const [[, hits], [, ttl]] = (await redis.multi().get(redisKey(key)).pttl(redisKey(key)).exec()) as [
            [unknown, string | null],
            [unknown, number],
          ];
          return { hits: Number(hits ?? 0), retryAfterMs: Math.max(ttl, 0) };
        },
        () => local.count(key),
      );
    },
    reset(key) {
      return guard.run(
        async () => {
          await redis.del(redisKey(key));
        },
        () => local.reset(key),
      );
    },
    hit(key, limit, windowMs) {
      return guard.run(
        async () => {
          const reply = await redis.eval(HIT_SCRIPT, 1, redisKey(key), windowMs);
          const [count, ttl] = reply as [number, number];
          return { allowed: count <= limit, retryAfterMs: Math.max(ttl, 0) };
        },
        () => local.hit(key, limit, windowMs),
      );
    },
  };
}
