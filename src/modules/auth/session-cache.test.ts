import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { testEnvironment } from '../../../test/helpers/environment.js';
import { startFaultProxy, targetOf, throughProxy } from '../../../test/helpers/fault-proxy.js';
import { createMemoryEventBus, createRedisEventBus, type EventBus } from '../../infra/events/event-bus.js';
import { createLogger } from '../../infra/logger.js';
import { createOutageGuard } from '../../infra/outage-guard.js';
import { createSessionCache, type SessionCacheOptions } from './session-cache.js';
import type { LiveSession } from './sessions.sql.js';

const { redisUrl } = testEnvironment;
const logger = createLogger('silent');

/** A sessions table of its own, counting its reads: what the cache stands in front of. */
function sessionTable() {
  const live = new Map<string, LiveSession>();
  let reads = 0;
  return {
    open(userId: string): string {
      const sessionId = crypto.randomUUID();
      live.set(sessionId, { sessionId, userId, role: 'user' });
      return sessionId;
    },
    end(sessionId: string) {
      live.delete(sessionId);
    },
    read: async (sessionId: string) => {
      reads += 1;
      const found = live.get(sessionId);
      await new Promise((resolve) => setImmediate(resolve));
      return found;
    },
    reads: () => reads,
  };
}

/** Waits until the cache keeps what it reads: its subscription is confirmed. */
async function untilListening(cache: ReturnType<typeof createSessionCache>) {
  const table = sessionTable();
  const probe = table.open('probe');
  await expect
    .poll(async () => {
      const before = table.reads();
      await cache.find(probe, table.read);
      await cache.find(probe, table.read);
      return table.reads() - before;
    })
    .toBeLessThan(2);
}

/** A cache on the in-process bus, once it keeps what it reads. */
async function listeningCache(options: Partial<SessionCacheOptions> = {}) {
  const cache = createSessionCache(createMemoryEventBus(), logger, { enabled: true, ...options });
  await untilListening(cache);
  return cache;
}

describe('the session cache', () => {
  it('reads a session once, and again once it was told of its end, which it then sees', async () => {
    const cache = await listeningCache();
    const table = sessionTable();
    const sessionId = table.open('u1');
    expect(await cache.find(sessionId, table.read)).toMatchObject({ userId: 'u1' });
    expect(await cache.find(sessionId, table.read)).toMatchObject({ userId: 'u1' });
    expect(table.reads()).toBe(1);

    table.end(sessionId);
    await cache.ended('u1');
    expect(await cache.find(sessionId, table.read)).toBeUndefined();
    expect(table.reads()).toBe(2);
    await cache.close();
  });

  it('forgets every session of the user whose sessions ended, and only theirs', async () => {
    const cache = await listeningCache();
    const table = sessionTable();
    const theirs = [table.open('u7'), table.open('u7')];
    const others = [table.open('u8'), table.open('u9')];
    for (const sessionId of [...theirs, ...others]) await cache.find(sessionId, table.read);
    expect(table.reads()).toBe(4);

    await cache.ended('u7');
    for (const sessionId of [...theirs, ...others]) await cache.find(sessionId, table.read);
    expect(table.reads()).toBe(6);
    await cache.close();
  });

  it('keeps at most maxEntries sessions, letting the oldest go first', async () => {
    const cache = await listeningCache({ maxEntries: 2 });
    const table = sessionTable();
    const [first, second, third] = [table.open('a'), table.open('b'), table.open('c')];
    for (const sessionId of [first, second, third]) await cache.find(sessionId, table.read);
    await cache.find(third, table.read);
    await cache.find(second, table.read);
    expect(table.reads()).toBe(3);
    await cache.find(first, table.read);
    expect(table.reads()).toBe(4);
    await cache.close();
  });

  it('does not keep a read that was under way when an end was told', async () => {
    const cache = await listeningCache();
    const table = sessionTable();
    const sessionId = table.open('u2');
    // The read saw the session live; its end committed and was told before the read came back.
    const reading = cache.find(sessionId, table.read);
    table.end(sessionId);
    await cache.ended('u2');
    expect(await reading).toMatchObject({ userId: 'u2' });
    expect(await cache.find(sessionId, table.read)).toBeUndefined();
    await cache.close();
  });

  it('reads again once an entry is older than its time to live, and every time when disabled', async () => {
    const table = sessionTable();
    const sessionId = table.open('u3');
    const short = await listeningCache({ ttlMs: 20 });
    await short.find(sessionId, table.read);
    await short.find(sessionId, table.read);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await short.find(sessionId, table.read);
    expect(table.reads()).toBe(2);

    const off = createSessionCache(createMemoryEventBus(), logger, { enabled: false });
    await off.find(sessionId, table.read);
    await off.find(sessionId, table.read);
    expect(table.reads()).toBe(4);
    await Promise.all([short.close(), off.close()]);
  });
});

describe.runIf(redisUrl)('the session cache over Redis', () => {
  const closers: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
  });
  const prefix = `tokenpool-test-sessions-${crypto.randomUUID()}`;

  function bus(url: string): EventBus {
    const redis = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 }).on('error', () => {});
    const guard = createOutageGuard({ probe: () => redis.ping(), logger, name: 'Redis', whileDown: 'dropped' });
    const events = createRedisEventBus(redis, prefix, logger, guard);
    closers.push(
      () => redis.quit(),
      () => events.close(),
    );
    return events;
  }

  it("hears another process's end of a session", async () => {
    const here = bus(redisUrl as string);
    const there = bus(redisUrl as string);
    const cache = createSessionCache(here, logger, { enabled: true });
    const theirs = createSessionCache(there, logger, { enabled: true });
    closers.push(
      () => cache.close(),
      () => theirs.close(),
    );
    await untilListening(cache);
    const table = sessionTable();
    const sessionId = table.open('u4');
    await cache.find(sessionId, table.read);
    await cache.find(sessionId, table.read);
    expect(table.reads()).toBe(1);

    table.end(sessionId);
    await theirs.ended('u4');
    await expect.poll(() => cache.find(sessionId, table.read)).toBeUndefined();
  });

  /** Two processes' caches: `cut` has lost Redis, `cache` has not. */
  async function oneCutOff(ttlMs: number) {
    const proxy = await startFaultProxy(targetOf(redisUrl as string, 6379));
    closers.push(() => proxy.close());
    const cache = createSessionCache(bus(redisUrl as string), logger, { enabled: true, ttlMs });
    await proxy.setMode('refuse');
    const cut = createSessionCache(bus(throughProxy(redisUrl as string, proxy)), logger, { enabled: true, ttlMs });
    closers.push(
      () => cache.close(),
      () => cut.close(),
    );
    await untilListening(cache);
    return { cache, cut };
  }

  it('answers an end it could not tell only once what other processes keep is past its time to live', async () => {
    const ttlMs = 400;
    const { cache, cut } = await oneCutOff(ttlMs);
    const table = sessionTable();
    const sessionId = table.open('u10');
    await cache.find(sessionId, table.read);
    expect(await cache.find(sessionId, table.read)).toMatchObject({ userId: 'u10' });
    expect(table.reads()).toBe(1);

    table.end(sessionId);
    const started = performance.now();
    await cut.ended('u10');
    expect(performance.now() - started).toBeGreaterThanOrEqual(ttlMs - 1);
    expect(await cache.find(sessionId, table.read)).toBeUndefined();
    expect(table.reads()).toBe(2);
  });

  it('counts the time to live from before the read, so one under way at an untold end is not trusted after it', async () => {
    const ttlMs = 400;
    const { cache, cut } = await oneCutOff(ttlMs);
    const table = sessionTable();
    const sessionId = table.open('u11');
    // The read saw the session live, and comes back long after its end was answered as untold.
    const slowRead = async (id: string) => {
      const found = await table.read(id);
      await new Promise((resolve) => setTimeout(resolve, ttlMs / 2));
      return found;
    };
    const reading = cache.find(sessionId, slowRead);
    table.end(sessionId);
    const ending = cut.ended('u11');
    expect(await reading).toMatchObject({ userId: 'u11' });
    await ending;
    expect(await cache.find(sessionId, table.read)).toBeUndefined();
  });

  it('trusts nothing kept before its subscription broke, and reads every time until it is back', async () => {
    const proxy = await startFaultProxy(targetOf(redisUrl as string, 6379));
    closers.push(() => proxy.close());
    const here = bus(throughProxy(redisUrl as string, proxy));
    const cache = createSessionCache(here, logger, { enabled: true });
    closers.push(() => cache.close());
    await untilListening(cache);
    const table = sessionTable();
    const sessionId = table.open('u5');
    await cache.find(sessionId, table.read);
    expect(table.reads()).toBe(1);

    await proxy.setMode('refuse');
    proxy.dropConnections();
    await expect.poll(() => here.stretch()).toBeNull();
    // An end told while this process could not hear it.
    table.end(sessionId);
    expect(await cache.find(sessionId, table.read)).toBeUndefined();
    const live = table.open('u6');
    await cache.find(live, table.read);
    await cache.find(live, table.read);
    expect(table.reads()).toBe(4);

    await proxy.setMode('forward');
    await expect.poll(() => here.stretch()).not.toBeNull();
    await cache.find(live, table.read);
    await cache.find(live, table.read);
    expect(table.reads()).toBe(5);
  });
});
