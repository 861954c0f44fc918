import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { OutageGuard } from '../outage-guard.js';

/** One of the slots under a key, taken until it is released. */
export interface HeldSlot {
  release(): Promise<void>;
}

/**
 * Things held open, counted per key: at most `limit` slots under a key at once. A slot is an entry
 * that expires unless its holder refreshes it, so a process that dies holding slots frees them
 * within `SLOT_TTL_MS` instead of leaking them forever.
 */
export interface HeldSlots {
  /** A slot under `key`, or `undefined` when `limit` are held already. */
  acquire(key: string, limit: number): Promise<HeldSlot | undefined>;
}

const SLOT_TTL_MS = 60_000;
// Three refreshes per lifetime: a refresh that is late or lost once does not drop a live slot.
const REFRESH_MS = SLOT_TTL_MS / 3;

/** Keeps a taken slot alive until it is released; the timer never holds the process open. */
function held(refresh: () => Promise<unknown>, release: () => Promise<unknown>): HeldSlot {
  const timer = setInterval(() => void refresh().catch(() => {}), REFRESH_MS).unref();
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await release();
    },
  };
}

/** One process only: the embedded default, and what a process counts on while Redis is away. */
export function createMemorySlots(now: () => number = Date.now): HeldSlots {
  const keys = new Map<string, Map<string, number>>();
  return {
    async acquire(key, limit) {
      const time = now();
      const slots = keys.get(key) ?? new Map<string, number>();
      for (const [id, expiresAt] of slots) if (expiresAt <= time) slots.delete(id);
      if (slots.size >= limit) return undefined;
      const id = randomUUID();
      slots.set(id, time + SLOT_TTL_MS);
      keys.set(key, slots);
      return held(
        async () => slots.set(id, now() + SLOT_TTL_MS),
        async () => {
          slots.delete(id);
          if (slots.size === 0 && keys.get(key) === slots) keys.delete(key);
        },
      );
    },
  };
}

// A sorted set per key, each member a slot scored by when it expires (Redis's own clock, so the
// processes' clocks need not agree): expired members are dropped before counting, in one script,
// so two processes cannot both take the last slot.
const ACQUIRE_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

// Only a slot still there is refreshed: one dropped as expired stays dropped.
const REFRESH_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
`;

/**
 * Shared by every process on the same Redis. While Redis is away, slots are taken in this process
 * (the limit then holds per process), and each is released where it was taken.
 */
export function createRedisSlots(redis: Redis, prefix: string, guard: OutageGuard): HeldSlots {
  const local = createMemorySlots();
  return {
    acquire(key, limit) {
      const redisKey = `${prefix}:slots:${key}`;
      const id = randomUUID();
      return guard.run(
        async () => {
          const taken = await redis.eval(ACQUIRE_SCRIPT, 1, redisKey, limit, id, SLOT_TTL_MS);
          if (taken !== 1) return undefined;
          return held(
            () => redis.eval(REFRESH_SCRIPT, 1, redisKey, id, SLOT_TTL_MS),
            () => redis.zrem(redisKey, id).catch(() => {}),
          );
        },
        () => local.acquire(key, limit),
      );
    },
  };
}
