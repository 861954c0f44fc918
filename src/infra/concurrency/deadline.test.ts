import { describe, expect, it } from 'vitest';
import { within, withTimeout } from './deadline.js';

const settleIn = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe('within', () => {
  it('answers the value when it comes in time, and the stand-in when it does not', async () => {
    expect(await within(settleIn(5, 'value'), 200, 'late')).toBe('value');
    expect(await within(settleIn(200, 'value'), 5, 'late')).toBe('late');
  });

  it('passes a rejection in time on', async () => {
    await expect(within(Promise.reject(new Error('refused')), 200, 'late')).rejects.toThrow('refused');
  });
});

describe('withTimeout', () => {
  it('rejects naming what took too long', async () => {
    await expect(withTimeout(settleIn(200, 1), 5, 'queueing jobs')).rejects.toThrow(
      'queueing jobs took longer than 5 ms',
    );
    expect(await withTimeout(settleIn(5, 1), 200, 'queueing jobs')).toBe(1);
  });
});
