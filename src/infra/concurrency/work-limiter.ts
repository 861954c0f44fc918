/** Thrown when a limiter's queue is full: the caller should answer "try again shortly". */
export class SaturatedError extends Error {
  override name = 'SaturatedError';
}

export interface WorkLimiter {
  /** Runs `work` when a slot is free; throws SaturatedError at once if too many already wait. */
  run<T>(work: () => Promise<T>): Promise<T>;
}

/**
 * At most `running` pieces of work at once and `waiting` in line; beyond that, a refusal rather
 * than a queue without end, so a flood cannot hold every request hostage to its backlog.
 */
export function createWorkLimiter({ running, waiting }: { running: number; waiting: number }): WorkLimiter {
  let active = 0;
  const queue: Array<() => void> = [];
  const release = () => {
    const next = queue.shift();
    if (next) next();
    else active -= 1;
  };
  return {
    async run(work) {
      if (active >= running) {
        if (queue.length >= waiting) throw new SaturatedError('too much work is waiting');
        // The slot is handed over by release(), so active stays counted for the one that waits.
        await new Promise<void>((resolve) => queue.push(resolve));
      } else {
        active += 1;
      }
      try {
        return await work();
      } finally {
        release();
      }
    },
  };
}
