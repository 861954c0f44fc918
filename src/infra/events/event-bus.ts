import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { OutageGuard } from '../outage-guard.js';

export type Listener = (message: unknown) => void;

/** How often a subscribed connection is asked whether Redis still answers on it. */
const HEARTBEAT_MS = 5000;

/**
 * Live notifications between processes: what one process publishes, every subscriber in every
 * process receives. Best effort by design: it feeds live views, while the truth stays in the database.
 */
export interface EventBus {
  /**
   * A message is any JSON value but an array. Resolves true once it is out (Redis took it, or, in
   * one process, every listener has it), false when that was not confirmed in time (it may still
   * go out later): best effort never throws.
   */
  publish(channel: string, message: unknown): Promise<boolean>;
  /** Resolves once messages flow (the function it answers unsubscribes). */
  subscribe(channel: string, listener: Listener): Promise<() => void>;
  /**
   * Which unbroken stretch of this process's subscriptions this is, or null while they are down.
   * Once broken, what was published meanwhile never arrives here, and the next stretch has another
   * number: who keeps what a message would undo keeps the number with it, and trusts it while the
   * number stays the same.
   */
  stretch(): number | null;
  close(): Promise<void>;
}

/** One process: the embedded default. */
export function createMemoryEventBus(): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    async publish(channel, message) {
      emitter.emit(channel, message);
      return true;
    },
    async subscribe(channel, listener) {
      emitter.on(channel, listener);
      return () => emitter.off(channel, listener);
    },
    // Nothing between publisher and listener can break.
    stretch: () => 0,
    async close() {
      emitter.removeAllListeners();
    },
  };
}

/**
 * Redis pub/sub: one subscriber connection per process, shared by every local listener. While
 * Redis is away an event is dropped (the guard logs the outage once), never waited on. Messages
 * published to one channel in one turn of the event loop go out together, as one Redis message
 * holding an array of them (a lone message goes out as itself): a batch of leases is announced
 * with one PUBLISH, not one per lease.
 */
export function createRedisEventBus(
  redis: Redis,
  prefix: string,
  logger: Logger,
  guard: OutageGuard,
  { heartbeatMs = HEARTBEAT_MS }: { heartbeatMs?: number } = {},
): EventBus {
  const local = createMemoryEventBus();
  let subscriber: Redis | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  // Connections made so far; the current one's number once it is subscribed again, else null.
  let connections = 0;
  let stretch: number | null = null;
  // Per channel: how many local listeners, and the Redis subscription they share.
  const channels = new Map<string, { listeners: number; ready: Promise<unknown> }>();
  const key = (channel: string) => `${prefix}:events:${channel}`;

  function connection(): Redis {
    if (!subscriber) {
      // Its outages show in the publishes and the subscribes; its 'error' events only repeat them.
      const own = redis.duplicate().on('error', () => {});
      subscriber = own;
      own.on('close', () => {
        connections += 1;
        stretch = null;
      });
      // Listening again only once Redis confirms every channel on the new connection: a message
      // published before that is lost to this process.
      own.on('ready', () => {
        const current = ++connections;
        const names = [...channels.keys()].map(key);
        (names.length > 0 ? own.subscribe(...names) : Promise.resolve()).then(
          () => {
            if (connections === current) stretch = current;
          },
          () => {},
        );
      });
      // A subscribed connection only ever hears: if Redis vanished without closing it, nothing
      // would tell. So it is asked for a PONG now and then, and made anew when none comes within
      // its command timeout (the connection's `close` then ends this stretch).
      heartbeat = setInterval(() => {
        if (own.status !== 'ready') return;
        own.ping().catch(() => {
          if (own.status === 'ready') own.disconnect(true);
        });
      }, heartbeatMs).unref();
      own.on('message', (channel: string, payload: string) => {
        try {
          const name = channel.slice(prefix.length + ':events:'.length);
          const parsed: unknown = JSON.parse(payload);
          for (const message of Array.isArray(parsed) ? parsed : [parsed]) void local.publish(name, message);
        } catch (error) {
          logger.warn({ err: error, channel }, 'dropped an unreadable event');
        }
      });
    }
    return subscriber;
  }

  // Per channel: the messages waiting for the end of this turn of the event loop, and their send.
  const outgoing = new Map<string, { messages: unknown[]; sent: Promise<boolean> }>();
  async function send(channel: string, messages: unknown[]): Promise<boolean> {
    const payload = JSON.stringify(messages.length === 1 ? messages[0] : messages);
    return guard.run(
      async () => {
        await redis.publish(key(channel), payload);
        return true;
      },
      () => false,
    );
  }

  return {
    publish(channel, message) {
      let group = outgoing.get(channel);
      if (!group) {
        const messages: unknown[] = [];
        const sent = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
          outgoing.delete(channel);
          return send(channel, messages);
        });
        group = { messages, sent };
        outgoing.set(channel, group);
      }
      group.messages.push(message);
      return group.sent;
    },
    async subscribe(channel, listener) {
      let entry = channels.get(channel);
      if (!entry) {
        entry = { listeners: 0, ready: connection().subscribe(key(channel)) };
        channels.set(channel, entry);
      }
      entry.listeners += 1;
      const shared = entry;
      try {
        // Every subscriber waits for Redis to confirm, also one that arrives while it is pending.
        await shared.ready;
      } catch (error) {
        // A refusal must not be shared with those who come after Redis is back.
        if (channels.get(channel) === shared) channels.delete(channel);
        throw error;
      }
      const unsubscribe = await local.subscribe(channel, listener);
      return () => {
        unsubscribe();
        shared.listeners -= 1;
        if (shared.listeners === 0 && channels.get(channel) === shared) {
          channels.delete(channel);
          subscriber?.unsubscribe(key(channel)).catch(() => {});
        }
      };
    },
    stretch: () => stretch,
    async close() {
      // What was published before the close still goes out.
      await Promise.all([...outgoing.values()].map((group) => group.sent));
      await local.close();
      clearInterval(heartbeat);
      await subscriber?.quit().catch(() => subscriber?.disconnect());
    },
  };
}
