import type { Redis } from 'ioredis';

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

export function createRedisProgressStore(redis: Redis, prefix: string): ProgressStore {
  const key = (id: string) => `${prefix}:progress:${id}`;
  return {
    async set(id, value) {
      await redis.set(key(id), JSON.stringify(value), 'EX', TTL_SECONDS);
    },
    async get<T>(id: string) {
      const raw = await redis.get(key(id));
      return raw === null ? undefined : (JSON.parse(raw) as T);
    },
    async remove(id) {
      await redis.del(key(id));
    },
  };
}
