import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { testEnvironment } from '../../../test/helpers/environment.js';
import { createLogger } from '../logger.js';
import { createOutageGuard } from '../outage-guard.js';
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
