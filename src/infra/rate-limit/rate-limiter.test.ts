import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { testEnvironment } from '../../../test/helpers/environment.js';
import { deleteRedisKeys } from '../../../test/helpers/redis-keys.js';
import { createOutageGuard } from '../outage-guard.js';
import { createMemoryRateLimiter, createRedisRateLimiter, type RateLimiter } from './rate-limiter.js';

const prefix = `tokenpool-test-${randomBytes(6).toString('hex')}`;
const redis = testEnvironment.redisUrl ? new Redis(testEnvironment.redisUrl) : undefined;
afterAll(async () => {
  if (!redis || !testEnvironment.redisUrl) return;
  await redis.quit();
  await deleteRedisKeys(testEnvironment.redisUrl, prefix);
});

const limiters: Array<[string, () => RateLimiter]> = [['in one process', () => createMemoryRateLimiter()]];
if (redis) {
  const guard = createOutageGuard({
    name: 'Redis',
    whileDown: 'counting here',
    probe: () => redis.ping(),
    logger: pino({ level: 'silent' }),
  });
  limiters.push(['in Redis', () => createRedisRateLimiter(redis, prefix, guard)]);
}

describe.each(limiters)('reserving slots %s', (_name, create) => {
  const slots = (tag: string, small: number) => [
    { key: `${tag}:small`, limit: small, windowMs: 60_000 },
    { key: `${tag}:large`, limit: 100, windowMs: 60_000 },
  ];

  it('takes a slot in every counter, or in none when one of them is full', async () => {
    const limiter = create();
    const tag = randomBytes(4).toString('hex');
    const answers = await Promise.all(Array.from({ length: 10 }, () => limiter.reserve(slots(tag, 3))));
    expect(answers.filter((answer) => answer.allowed)).toHaveLength(3);
    const refused = answers.find((answer) => !answer.allowed);
    expect(refused?.retryAfterMs).toBeGreaterThan(50_000);
    expect(refused?.retryAfterMs).toBeLessThanOrEqual(60_000);
    // The large counter was only counted with the small one: three, so 97 more fit in it alone.
    const large = Array.from({ length: 98 }, () => ({ key: `${tag}:large`, limit: 100, windowMs: 60_000 }));
    expect((await Promise.all(large.map((slot) => limiter.reserve([slot])))).filter((a) => a.allowed)).toHaveLength(97);
  });

  it('takes a given-back slot again, and gives back nothing a counter does not hold', async () => {
    const limiter = create();
    const tag = randomBytes(4).toString('hex');
    for (let i = 0; i < 2; i += 1) expect((await limiter.reserve(slots(tag, 2))).allowed).toBe(true);
    expect((await limiter.reserve(slots(tag, 2))).allowed).toBe(false);
    await limiter.release([`${tag}:small`, `${tag}:large`]);
    expect((await limiter.reserve(slots(tag, 2))).allowed).toBe(true);
    await limiter.release([`${tag}:unknown`]);
    await limiter.reset(`${tag}:small`);
    await limiter.release([`${tag}:small`]);
    for (let i = 0; i < 2; i += 1) expect((await limiter.reserve(slots(tag, 2))).allowed).toBe(true);
    expect((await limiter.reserve(slots(tag, 2))).allowed).toBe(false);
  });
});
