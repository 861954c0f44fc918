import { describe, expect, it } from 'vitest';
import { createBatcher } from './batcher.js';

describe('createBatcher', () => {
  it('runs a lone call at once and coalesces the calls that arrive while batches run', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const call = createBatcher(
      async (items: number[]) => {
        batches.push(items);
        await gate;
        return items.map((n) => n * 10);
      },
      { maxBatch: 3, maxInFlight: 1 },
    );
    const answers = Promise.all([1, 2, 3, 4, 5, 6].map((n) => call(n)));
    release();
    expect(await answers).toEqual([10, 20, 30, 40, 50, 60]);
    expect(batches).toEqual([[1], [2, 3, 4], [5, 6]]);
  });

  it('fails only the bad call when a batch fails', async () => {
    const call = createBatcher(
      async (items: number[]) => {
        if (items.includes(13)) throw new Error('unlucky');
        return items;
      },
      { maxInFlight: 1 },
    );
    const results = await Promise.allSettled([1, 13, 2, 3].map((n) => call(n)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
  });

  it('sends the next batch before it answers the calls of the last one', async () => {
    const order: string[] = [];
    const call = createBatcher(
      async (items: number[]) => {
        order.push(`batch ${items.join(',')}`);
        await new Promise((resolve) => setImmediate(resolve));
        return items;
      },
      { maxInFlight: 1 },
    );
    const first = call(1).then(() => order.push('answered 1'));
    const next = call(2).then(() => order.push('answered 2'));
    await Promise.all([first, next]);
    expect(order).toEqual(['batch 1', 'batch 2', 'answered 1', 'answered 2']);
  });
});
