import type { Logger } from '../logger.js';

export interface Loop {
  /** Stops the loop and waits for the run in progress, if any. */
  stop(): Promise<void>;
}

/**
 * Runs `run` every `intervalMs` (the first at once), never two at once, until stopped. A failed run
 * is logged under `name` and the loop goes on: the next run may well succeed.
 */
export function startLoop(name: string, run: () => Promise<unknown>, logger: Logger, intervalMs: number): Loop {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const tick = () => {
    running = run()
      .then(
        () => {},
        (error: unknown) => logger.warn({ err: error }, `${name} failed`),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  timer = setTimeout(tick, 0);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
