import type { Config } from '../../config.js';
import type { BackgroundWork } from '../../infra/background-work.js';
import { type Backoff, registerJob, retryFor } from '../../infra/queue/queue.js';
import { type ImportJobDeps, importGivenUp, importUsersHandler, importUsersJob } from './import-users.job.js';

/**
 * In worker processes: the imports. One that keeps failing is given up after IMPORT_RETRY_SECONDS
 * (sooner than mail) and ends `failed`, never left `processing`.
 */
export function importWork(
  deps: ImportJobDeps & { config: Pick<Config, 'IMPORT_RETRY_SECONDS'> },
  backoff: Backoff,
): BackgroundWork {
  return {
    jobs: [
      registerJob(importUsersJob, importUsersHandler(deps), {
        retry: retryFor(deps.config.IMPORT_RETRY_SECONDS, backoff),
        giveUp: importGivenUp(deps),
      }),
    ],
  };
}
