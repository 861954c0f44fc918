import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

export type Listener = (message: unknown) => void;

/**
 * Live notifications between processes: what one process publishes, every subscriber in every
 * process receives. Best effort by design: it feeds live views, while the truth stays in the database.
 */
export interface EventBus {
  publish(channel: string, message: unknown): Promise<void>;
  /** Resolves once messages flow (the function it answers unsubscribes). */
  subscribe(channel: string, listener: Listener): Promise<() => void>;
  close(): Promise<void>;
}

/** One process: the embedded default. */
export function createMemoryEventBus(): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    async publish(channel, message) {
      emitter.emit(channel, message);
    },
    async subscribe(channel, listener) {
      emitter.on(channel, listener);
      return () => emitter.off(channel, listener);
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}

/** Redis pub/sub: one subscriber connection per process, shared by every local listener. */
export function createRedisEventBus(redis: Redis, prefix: string, logger: Logger): EventBus {
  const local = createMemoryEventBus();
  let subscriber: Redis | undefined;
  // Per channel: how many local listeners, and the Redis subscription they share.
  const channels = new Map<string, { listeners: number; ready: Promise<unknown> }>();
  const key = (channel: string) => `${prefix}:events:${channel}`;

  function connection(): Redis {
    if (!subscriber) {
      subscriber = redis.duplicate();
      subscriber.on('message', (channel: string, payload: string) => {
        try {
          void local.publish(channel.slice(prefix.length + ':events:'.length), JSON.parse(payload));
        } catch (error) {
          logger.warn({ err: error, channel }, 'dropped an unreadable event');
        }
      });
    }
    return subscriber;
  }

  return {
    async publish(channel, message) {
      await redis.publish(key(channel), JSON.stringify(message));
    },
    async subscribe(channel, listener) {
      let entry = channels.get(channel);
      if (!entry) {
        entry = { listeners: 0, ready: connection().subscribe(key(channel)) };
        channels.set(channel, entry);
      }
      entry.listeners += 1;
      // Every subscriber waits for Redis to confirm, also one that arrives while it is pending.
      await entry.ready;
      const unsubscribe = await local.subscribe(channel, listener);
      const shared = entry;
      return () => {
        unsubscribe();
        shared.listeners -= 1;
        if (shared.listeners === 0 && channels.get(channel) === shared) {
          channels.delete(channel);
          void subscriber?.unsubscribe(key(channel));
        }
      };
    },
    async close() {
      await local.close();
      await subscriber?.quit();
    },
  };
}
