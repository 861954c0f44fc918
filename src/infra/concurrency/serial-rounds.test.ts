import { describe, expect, it } from 'vitest';
import { serialRounds } from './serial-rounds.js';

describe('serial rounds', () => {
  it('run one at a time: kicks during a round ask for one more round, not more runs beside it', async () => {
    let active = 0;
    let most = 0;
    let rounds = 0;
    let release: () => void = () => {};
    const rounds$ = serialRounds(
      async () => {
        rounds += 1;
        active += 1;
        most = Math.max(most, active);
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        active -= 1;
        return false;
      },
      { stopped: () => false, settled: () => {} },
    );
    rounds$.kick();
    rounds$.kick();
    rounds$.kick();
    release();
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await rounds$.idle();
    expect({ rounds, most }).toEqual({ rounds: 2, most: 1 });
  });

  it('go on while a round leaves work behind, stop when told, and report how a run ended', async () => {
    const left = [true, true, false];
    const outcomes: unknown[] = [];
    let rounds = 0;
    const going = serialRounds(
      async () => {
        rounds += 1;
        return left.shift() ?? false;
      },
      { stopped: () => false, settled: (error) => outcomes.push(error) },
    );
    going.kick();
    await going.idle();
    expect(rounds).toBe(3);

    const failing = serialRounds(
      async () => {
        throw new Error('away');
      },
      { stopped: () => false, settled: (error) => outcomes.push(error) },
    );
    failing.kick();
    await failing.idle();
    expect(outcomes).toEqual([undefined, new Error('away')]);

    // A round that always leaves work behind runs once, then no more once stopped, kicked or not.
    let stopped = false;
    let stoppingRounds = 0;
    const stopping = serialRounds(
      async () => {
        stoppingRounds += 1;
        stopped = true;
        return true;
      },
      { stopped: () => stopped, settled: () => {} },
    );
    stopping.kick();
    await stopping.idle();
    stopping.kick();
    await stopping.idle();
    expect(stoppingRounds).toBe(1);
  });
});
