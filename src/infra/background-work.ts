import type { Loop } from './concurrency/interval-loop.js';
import type { JobRegistration } from './queue/queue.js';

/**
 * What a module runs in worker processes: the jobs it handles, and loops of its own. Each module
 * says what it needs; the runtime only starts and stops them.
 */
export interface BackgroundWork {
  readonly jobs?: JobRegistration<unknown>[];
  /** Starts the module's loops and answers them; called once per worker process. */
  readonly start?: () => Loop[];
}
