import type { Logger } from '../../infra/logger.js';

export interface Sweeper {
  stop(): Promise<void>;
}

/**
 * Runs `sweep` every `intervalMs`, never two at once, until stopped. Used to close due leases in
 * the history within a second of their end; correctness never waits for it.
 */
export function startSweeper(sweep: () => Promise<unknown>, logger: Logger, intervalMs = 250): Sweeper {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const tick = () => {
    running = sweep()
      .then(
        () => {},
        (error: unknown) => logger.warn({ err: error }, 'lease expiry sweep failed'),
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
