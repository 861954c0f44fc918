import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { testEnvironment } from '../../../test/helpers/environment.js';
import { startFaultProxy, targetOf, throughProxy } from '../../../test/helpers/fault-proxy.js';
import { createLogger } from '../logger.js';
import { createOutageGuard } from '../outage-guard.js';
import { createRequestRedis } from '../redis.js';
import { createRedisEventBus } from './event-bus.js';

const { redisUrl } = testEnvironment;

describe.runIf(redisUrl)('the Redis event bus', () => {
  const redis = new Redis(redisUrl as string);
  const watcher = new Redis(redisUrl as string);
  const logger = createLogger('silent');
  const prefix = `tokenpool-test-bus-${crypto.randomUUID()}`;
  const guard = createOutageGuard({ probe: () => redis.ping(), logger, name: 'Redis', whileDown: 'events dropped' });
  const bus = createRedisEventBus(redis, prefix, logger, guard);
  afterAll(async () => {
    await bus.close();
    await Promise.all([redis.quit(), watcher.quit()]);
  });

  it('sends the messages of one turn of the event loop as one Redis message, and delivers each in order', async () => {
    const onWire: string[] = [];
    watcher.on('message', (_channel: string, payload: string) => onWire.push(payload));
    await watcher.subscribe(`${prefix}:events:pool`);
    const heard: unknown[] = [];
    const unsubscribe = await bus.subscribe('pool', (message) => heard.push(message));

    await Promise.all([1, 2, 3].map((n) => bus.publish('pool', { n })));
    await bus.publish('pool', { n: 4 });
    await expect.poll(() => heard.length + onWire.length).toBe(6);

    expect(heard).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    expect(onWire.map((payload) => JSON.parse(payload))).toEqual([[{ n: 1 }, { n: 2 }, { n: 3 }], { n: 4 }]);
    unsubscribe();
  });

  /** A bus on a connection through a fault proxy, with short bounds so that a test can wait them out. */
  async function busThroughProxy() {
    const proxy = await startFaultProxy(targetOf(redisUrl as string, 6379));
    const own = createRequestRedis(throughProxy(redisUrl as string, proxy), {
      connectTimeoutMs: 500,
      commandTimeoutMs: 500,
      socketTimeoutMs: 1000,
    });
    const ownGuard = createOutageGuard({ probe: () => own.ping(), logger, name: 'Redis', whileDown: 'dropped' });
    const cut = createRedisEventBus(own, prefix, logger, ownGuard, { heartbeatMs: 200 });
    const close = async () => {
      await cut.close();
      own.disconnect();
      await proxy.close();
    };
    return { proxy, cut, close };
  }

  it('listens again after Redis vanished from its subscription without closing it', async () => {
    const { proxy, cut, close } = await busThroughProxy();
    try {
      const heard: unknown[] = [];
      await cut.subscribe('vanished', (message) => heard.push(message));
      await expect.poll(() => cut.stretch()).not.toBeNull();

      proxy.strandConnections();
      // Nothing closed: only an unanswered PING can tell.
      await expect.poll(() => cut.stretch(), { timeout: 3000 }).toBeNull();
      await expect.poll(() => cut.stretch(), { timeout: 3000 }).not.toBeNull();
      await bus.publish('vanished', { n: 6 });
      await expect.poll(() => heard).toEqual([{ n: 6 }]);
    } finally {
      await close();
    }
  });

  it('publishes again after Redis vanished from its connection without closing it', async () => {
    const { proxy, cut, close } = await busThroughProxy();
    try {
      const onWire: string[] = [];
      watcher.on('message', (_channel: string, payload: string) => onWire.push(payload));
      await watcher.subscribe(`${prefix}:events:stranded`);
      expect(await cut.publish('stranded', { n: 7 })).toBe(true);

      proxy.strandConnections();
      expect(await cut.publish('stranded', { n: 8 })).toBe(false);
      // Commands time out one by one on the silent connection until it is dropped and made anew.
      await expect.poll(() => cut.publish('stranded', { n: 9 }), { timeout: 5000, interval: 200 }).toBe(true);
      await expect.poll(() => onWire.map((payload) => JSON.parse(payload))).toContainEqual({ n: 9 });
    } finally {
      await close();
    }
  });

  it('still sends what was published just before it closed', async () => {
    const onWire: string[] = [];
    watcher.on('message', (_channel: string, payload: string) => onWire.push(payload));
    await watcher.subscribe(`${prefix}:events:last`);
    const own = new Redis(redisUrl as string);
    const closing = createRedisEventBus(own, prefix, logger, guard);
    void closing.publish('last', { n: 5 });
    await closing.close();
    await own.quit();
    await expect.poll(() => onWire.map((payload) => JSON.parse(payload))).toEqual([{ n: 5 }]);
  });
});
