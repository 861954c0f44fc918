import type { Redis } from 'ioredis';
import type { OutageGuard } from '../outage-guard.js';

/**
 * Live progress of long jobs, by id: Redis while several processes share it, memory when embedded.
 * Only the live view: the database keeps the final figures.
 */
export interface ProgressStore {
  set(id: string, value: unknown): Promise<void>;
  get<T>(id: string): Promise<T | undefined>;
  remove(id: string): Promise<void>;
}

export function createMemoryProgressStore(): ProgressStore {
  const values = new Map<string, unknown>();
  return {
    async set(id, value) {
      values.set(id, value);
    },
    async get<T>(id: string) {
      return values.get(id) as T | undefined;
    },
    async remove(id) {
      values.delete(id);
    },
  };
}

// Progress outlives a dead worker only as long as it could be useful to a reader.
const TTL_SECONDS = 24 * 3600;

/**
 * Best effort: while Redis is away a write is dropped and a read finds nothing, so readers fall
 * back to the figures in the database; a job is never failed or held up by its live view.
 */
export function createRedisProgressStore(redis: Redis, prefix: string, guard: OutageGuard): ProgressStore {
  const key = (id: string) => `${prefix}:progress:${id}`;
  const nothing = () => undefined;
  return {
    async set(id, value) {
      await guard.run(() => redis.set(key(id), JSON.stringify(value), 'EX', TTL_SECONDS), nothing);
    },
    async get<T>(id: string) {
      const raw = await guard.run(() => redis.get(key(id)), nothing);
      return raw === null || raw === undefined ? undefined : (JSON.parse(raw) as T);
    },
    async remove(id) {
      await guard.run(() => redis.del(key(id)), nothing);
    },
  };
}
