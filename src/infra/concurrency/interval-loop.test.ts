import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { startLoop } from './interval-loop.js';

describe('an interval loop', () => {
  it('warns once for a streak of failures, and says when it works again and after how many', async () => {
    const lines: Array<{ level: number; msg: string; failedRuns?: number }> = [];
    const logger = createLogger('info', { write: (line: string) => lines.push(JSON.parse(line)) });
    const outcomes = [false, false, false, true, true, false];
    let runs = 0;
    const loop = startLoop(
      'the sweep',
      async () => {
        const ok = outcomes[runs++];
        if (ok === false) throw new Error('the database is away');
      },
      logger,
      1,
    );
    await expect.poll(() => runs, { interval: 5 }).toBeGreaterThanOrEqual(outcomes.length);
    await loop.stop();
    expect(lines.slice(0, 3).map(({ level, msg, failedRuns }) => ({ level, msg, failedRuns }))).toEqual([
      { level: 40, msg: 'the sweep failed; retrying quietly until it works', failedRuns: undefined },
      { level: 30, msg: 'the sweep works again', failedRuns: 3 },
      { level: 40, msg: 'the sweep failed; retrying quietly until it works', failedRuns: undefined },
    ]);
  });
});
