import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createMemoryQueue } from './memory-queue.js';
import { defineJob, PermanentJobError, registerJob } from './queue.js';

const logger = pino({ level: 'silent' });

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('in-process job queue', () => {
  it('retries a failing job with growing delays until it succeeds', async () => {
    const queue = createMemoryQueue(logger);
    const job = defineJob<{ n: number }>('flaky', { attempts: 4, backoffMs: 20 });
    const runs: number[] = [];
    const done = deferred();
    queue.process(
      [
        registerJob(job, async (_payload, { attempt }) => {
          runs.push(Date.now());
          if (attempt < 3) throw new Error('transient');
          done.resolve();
        }),
      ],
      { concurrency: 1 },
    );
    await queue.enqueue(job, { n: 1 });
    await done.promise;
    expect(runs).toHaveLength(3);
    const [a, b, c] = runs as [number, number, number];
    expect(b - a).toBeGreaterThanOrEqual(18);
    expect(c - b).toBeGreaterThanOrEqual(38);
    await queue.close();
  });

  it('gives up at once on a permanent error, and after `attempts` otherwise', async () => {
    const queue = createMemoryQueue(logger);
    const permanent = defineJob<null>('permanent', { attempts: 5, backoffMs: 1 });
    const transient = defineJob<null>('transient', { attempts: 3, backoffMs: 1 });
    const counts = { permanent: 0, transient: 0 };
    queue.process(
      [
        registerJob(permanent, async () => {
          counts.permanent += 1;
          throw new PermanentJobError('no');
        }),
        registerJob(transient, async () => {
          counts.transient += 1;
          throw new Error('again');
        }),
      ],
      { concurrency: 2 },
    );
    await queue.enqueue(permanent, null);
    await queue.enqueue(transient, null);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(counts).toEqual({ permanent: 1, transient: 3 });
    await queue.close();
  });

  it('runs at most `concurrency` jobs at once and close waits for the running ones', async () => {
    const queue = createMemoryQueue(logger);
    const job = defineJob<number>('slow');
    let running = 0;
    let peak = 0;
    const finished: number[] = [];
    queue.process(
      [
        registerJob(job, async (n) => {
          running += 1;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setTimeout(resolve, 30));
          running -= 1;
          finished.push(n);
        }),
      ],
      { concurrency: 3 },
    );
    for (let n = 0; n < 9; n += 1) await queue.enqueue(job, n);
    await new Promise((resolve) => setTimeout(resolve, 10));
    await queue.close();
    expect(peak).toBe(3);
    // The three that had started finished; the rest never began.
    expect(finished.sort()).toEqual([0, 1, 2]);
    await expect(queue.enqueue(job, 99)).rejects.toThrow(/closed/);
  });
});
