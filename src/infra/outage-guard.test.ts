import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createOutageGuard } from './outage-guard.js';

function setup() {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  let time = 0;
  let probeAnswers = false;
  let probes = 0;
  const guard = createOutageGuard({
    name: 'Redis',
    whileDown: 'falling back',
    logger,
    probeIntervalMs: 1000,
    now: () => time,
    probe: async () => {
      probes += 1;
      if (!probeAnswers) throw new Error('still away');
    },
  });
  return {
    guard,
    warnings: () => lines.filter((line) => line.level === 40).map((line) => line.msg),
    infos: () => lines.filter((line) => line.level === 30).map((line) => line.msg),
    advance: (ms: number) => {
      time += ms;
    },
    answer: () => {
      probeAnswers = true;
    },
    probes: () => probes,
  };
}

const failing = () => Promise.reject(new Error('Command timed out'));
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('an outage guard', () => {
  it('answers from the work while the dependency answers', async () => {
    const { guard, warnings } = setup();
    expect(
      await guard.run(
        async () => 'redis',
        () => 'memory',
      ),
    ).toBe('redis');
    expect(warnings()).toEqual([]);
  });

  it('falls back on a failure, leaves the dependency alone after it, and warns once per outage', async () => {
    const { guard, warnings } = setup();
    expect(await guard.run(failing, () => 'memory')).toBe('memory');
    let tried = 0;
    const work = async () => {
      tried += 1;
      return 'redis';
    };
    for (let i = 0; i < 5; i += 1) expect(await guard.run(work, () => 'memory')).toBe('memory');
    expect(tried).toBe(0);
    expect(warnings()).toEqual(['Redis is unavailable: falling back']);
  });

  it('probes at most once an interval during an outage, and returns to the dependency when it answers', async () => {
    const { guard, advance, answer, probes, infos, warnings } = setup();
    await guard.run(failing, () => 'memory');
    await guard.run(failing, () => 'memory');
    expect(probes()).toBe(0);
    advance(1000);
    await guard.run(failing, () => 'memory');
    await guard.run(failing, () => 'memory');
    await flush();
    expect(probes()).toBe(1);
    answer();
    advance(1000);
    expect(
      await guard.run(
        async () => 'redis',
        () => 'memory',
      ),
    ).toBe('memory');
    await flush();
    expect(probes()).toBe(2);
    expect(
      await guard.run(
        async () => 'redis',
        () => 'memory',
      ),
    ).toBe('redis');
    expect(infos()).toEqual(['Redis answers again']);
    await guard.run(failing, () => 'memory');
    expect(warnings()).toHaveLength(2);
  });
});
