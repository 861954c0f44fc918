import { describe, expect, it } from 'vitest';
import { createWorkLimiter, SaturatedError } from './work-limiter.js';

describe('work limiter', () => {
  it('runs at most `running` at once, queues `waiting` more, and refuses the rest at once', async () => {
    const limiter = createWorkLimiter({ running: 2, waiting: 3 });
    let now = 0;
    let peak = 0;
    const gates: Array<() => void> = [];
    const job = () =>
      limiter.run(async () => {
        now += 1;
        peak = Math.max(peak, now);
        await new Promise<void>((resolve) => gates.push(resolve));
        now -= 1;
        return 'done';
      });
    const accepted = Array.from({ length: 5 }, job);
    await expect(job()).rejects.toBeInstanceOf(SaturatedError);
    while (gates.length > 0 || now > 0) {
      gates.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await Promise.all(accepted)).toEqual(['done', 'done', 'done', 'done', 'done']);
    expect(peak).toBe(2);
    // Freed slots are free again.
    expect(await limiter.run(async () => 'again')).toBe('again');
  });
});
