import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { testEnvironment } from '../../../test/helpers/environment.js';
import { deleteRedisKeys } from '../../../test/helpers/redis-keys.js';
import { createOutageGuard } from '../outage-guard.js';
import { createMemorySlots, createRedisSlots, type HeldSlots } from './held-slots.js';

async function takeAll(slots: HeldSlots, key: string, tries: number) {
  const taken = [];
  for (let i = 0; i < tries; i += 1) taken.push(await slots.acquire(key, 2));
  return taken;
}

describe('held slots in one process', () => {
  it('holds at most the limit per key, and a released slot can be taken again', async () => {
    const slots = createMemorySlots();
    const [first, second, third] = await takeAll(slots, 'a', 3);
    expect([first, second].every(Boolean)).toBe(true);
    expect(third).toBeUndefined();
    expect(await slots.acquire('b', 2)).toBeDefined();
    await first?.release();
    await first?.release();
    expect(await slots.acquire('a', 2)).toBeDefined();
    expect(await slots.acquire('a', 2)).toBeUndefined();
  });

  it('frees slots nobody refreshed (a holder that died) once they expire', async () => {
    let time = 0;
    const slots = createMemorySlots(() => time);
    await takeAll(slots, 'a', 2);
    expect(await slots.acquire('a', 2)).toBeUndefined();
    time += 61_000;
    expect(await slots.acquire('a', 2)).toBeDefined();
  });
});

describe.runIf(testEnvironment.redisUrl)('held slots in Redis', () => {
  it('are counted across processes sharing the prefix', async () => {
    const url = testEnvironment.redisUrl as string;
    const prefix = `tokenpool-test-${randomBytes(6).toString('hex')}`;
    const connections = [new Redis(url), new Redis(url)];
    const guard = (redis: Redis) =>
      createOutageGuard({ name: 'Redis', whileDown: '', probe: () => redis.ping(), logger: pino({ level: 'silent' }) });
    const [one, two] = connections.map((redis) => createRedisSlots(redis, prefix, guard(redis))) as [
      HeldSlots,
      HeldSlots,
    ];
    try {
      const mine = await one.acquire('a', 2);
      expect(await two.acquire('a', 2)).toBeDefined();
      expect(await two.acquire('a', 2)).toBeUndefined();
      await mine?.release();
      expect(await two.acquire('a', 2)).toBeDefined();
    } finally {
      for (const redis of connections) await redis.quit();
      await deleteRedisKeys(url, prefix);
    }
  });
});
