import type { Redis } from 'ioredis';
import type { OutageGuard } from '../outage-guard.js';
import { createMemorySlots, createRedisSlots, type HeldSlots } from './held-slots.js';

export interface RateLimitResult {
  allowed: boolean;
  /** Milliseconds until the window that refused this hit ends. */
  retryAfterMs: number;
}

/** One counter an attempt takes a slot in: at most `limit` slots in each window of `windowMs`. */
export interface RateSlot {
  key: string;
  limit: number;
  windowMs: number;
}

/** Fixed-window counters: at most `limit` hits per key in each window of `windowMs`. */
export interface RateLimiter {
  hit(key: string, limit: number, windowMs: number): Promise<RateLimitResult>;
  /**
   * Takes a slot in every counter at once, or in none when any of them is full: an attempt counted
   * this way before its outcome is known cannot be raced past by attempts sent alongside it.
   */
  reserve(slots: readonly RateSlot[]): Promise<RateLimitResult>;
  /** Gives back a slot `reserve` took in each key, for an attempt that turned out not to count. */
  release(keys: readonly string[]): Promise<void>;
  /** Forgets the key's hits, as a successful login does for its failures. */
  reset(key: string): Promise<void>;
  /** Limits on what is held open rather than asked for (event streams), kept in the same place. */
  readonly slots: HeldSlots;
}

/** One process only: the embedded default. */
export function createMemoryRateLimiter(now: () => number = Date.now): RateLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>();
  /** The key's current window, a fresh one when the last has ended. */
  function windowOf(key: string, windowMs: number, time: number) {
    // Drop expired windows as we go, so the map cannot grow without bound.
    if (windows.size > 10_000) {
      for (const [k, w] of windows) if (w.resetAt <= time) windows.delete(k);
    }
    let window = windows.get(key);
    if (!window || window.resetAt <= time) {
      window = { count: 0, resetAt: time + windowMs };
      windows.set(key, window);
    }
    return window;
  }
  return {
    slots: createMemorySlots(now),
    async hit(key, limit, windowMs) {
      const time = now();
      const window = windowOf(key, windowMs, time);
      window.count += 1;
      return { allowed: window.count <= limit, retryAfterMs: window.resetAt - time };
    },
    async reserve(slots) {
      const time = now();
      // No await between the check and the count: one process runs this whole, like the script below.
      const taken = slots.map((slot) => ({ slot, window: windowOf(slot.key, slot.windowMs, time) }));
      const full = taken.filter(({ slot, window }) => window.count >= slot.limit);
      if (full.length > 0) {
        return { allowed: false, retryAfterMs: Math.max(...full.map(({ window }) => window.resetAt - time)) };
      }
      for (const { window } of taken) window.count += 1;
      return { allowed: true, retryAfterMs: 0 };
    },
    async release(keys) {
      for (const key of keys) {
        const window = windows.get(key);
        if (window && window.count > 0) window.count -= 1;
      }
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

// Checks every counter, then counts in all or none, in one script: Redis runs it whole, so attempts
// sent at once from several processes cannot all read a counter before any of them adds to it.
// ARGV holds each key's limit and window, in pairs; the answer is { 1 }, or { 0, milliseconds until
// the last full window ends }.
const RESERVE_SCRIPT = `
local wait = -1
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[2 * i - 1]) then
    wait = math.max(wait, redis.call('PTTL', key), 0)
  end
end
if wait >= 0 then return { 0, wait } end
for i, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, ARGV[2 * i]) end
end
return { 1 }
`;

// A window that has ended meanwhile is gone, and nothing is given back to its successor.
const RELEASE_SCRIPT = `
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
`;

/**
 * Shared by every process that uses the same Redis. While Redis is away each process counts on
 * its own (the limits hold per process) rather than let a login wait on Redis or go unlimited.
 */
export function createRedisRateLimiter(redis: Redis, prefix: string, guard: OutageGuard): RateLimiter {
  const local = createMemoryRateLimiter();
  const redisKey = (key: string) => `${prefix}:rate:${key}`;
  return {
    slots: createRedisSlots(redis, prefix, guard),
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
    reserve(slots) {
      return guard.run(
        async () => {
          const args = slots.flatMap((slot) => [slot.limit, slot.windowMs]);
          const keys = slots.map((slot) => redisKey(slot.key));
          const reply = await redis.eval(RESERVE_SCRIPT, keys.length, ...keys, ...args);
          const [allowed, wait = 0] = reply as [number, number?];
          return { allowed: allowed === 1, retryAfterMs: wait };
        },
        () => local.reserve(slots),
      );
    },
    release(keys) {
      return guard.run(
        async () => {
          await redis.eval(RELEASE_SCRIPT, keys.length, ...keys.map(redisKey));
        },
        () => local.release(keys),
      );
    },
  };
}
