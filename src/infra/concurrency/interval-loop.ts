import type { Logger } from '../logger.js';

export interface Loop {
  /** Stops the loop and waits for the run in progress, if any. */
  stop(): Promise<void>;
}

/**
 * Runs `run` every `intervalMs` (the first at once), never two at once, until stopped. A failed run
 * is logged under `name` and the loop goes on: the next run may well succeed. An outage fails run
 * after run, so only the first failure of a streak is a warning (the rest are debug lines), and
 * the first success after it says how many failed.
 */
export function startLoop(name: string, run: () => Promise<unknown>, logger: Logger, intervalMs: number): Loop {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let failures = 0;

  const tick = () => {
    running = run()
      .then(
        () => {
          if (failures > 0) logger.info({ failedRuns: failures }, `${name} works again`);
          failures = 0;
        },
        (error: unknown) => {
          failures += 1;
          if (failures === 1) logger.warn({ err: error }, `${name} failed; retrying quietly until it works`);
          else logger.debug({ err: error, failedRuns: failures }, `${name} failed`);
        },
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
