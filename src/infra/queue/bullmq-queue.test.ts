import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { testEnvironment } from '../../../test/helpers/environment.js';
import { createBullmqQueue } from './bullmq-queue.js';
import { defineJob, PermanentJobError, registerJob } from './queue.js';

const logger = pino({ level: 'silent' });
const redisUrl = testEnvironment.redisUrl;

describe.runIf(redisUrl)('BullMQ job queue', () => {
  const prefix = `tokenpool-test-${randomBytes(6).toString('hex')}`;
  const redis = new Redis(redisUrl as string, { maxRetriesPerRequest: null });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.unlink(...keys);
    await redis.quit();
  });

  it('retries transient failures with backoff and stops at once on a permanent one', async () => {
    const queue = createBullmqQueue({ redis, logger, prefix });
    const flaky = defineJob<{ id: string }>('flaky', { attempts: 3, backoffMs: 50 });
    const doomed = defineJob<{ id: string }>('doomed', { attempts: 5, backoffMs: 10 });
    const runs: Record<string, number[]> = { flaky: [], doomed: [] };
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => {
      settle = resolve;
    });
    queue.process(
      [
        registerJob(flaky, async (_payload, { attempt }) => {
          runs.flaky?.push(attempt);
          if (attempt < 3) throw new Error('transient');
          settle();
        }),
        registerJob(doomed, async (_payload, { attempt }) => {
          runs.doomed?.push(attempt);
          throw new PermanentJobError('cannot succeed');
        }),
      ],
      { concurrency: 2 },
    );
    await queue.enqueue(doomed, { id: 'd' });
    await queue.enqueue(flaky, { id: 'f' });
    await settled;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(runs).toEqual({ flaky: [1, 2, 3], doomed: [1] });
    await queue.close();
  });
});
