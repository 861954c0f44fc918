import type { Deps } from './deps.js';
import { type JobRegistration, registerJob } from './infra/queue/queue.js';
import {
  passwordResetEmailHandler,
  passwordResetEmailJob,
  welcomeEmailHandler,
  welcomeEmailJob,
} from './modules/auth/email-jobs.js';
import { importUsersHandler, importUsersJob } from './modules/imports/import-users.job.js';

/** Every job the workers run, with its handler bound to the dependencies. */
export function jobRegistrations(deps: Deps): JobRegistration<unknown>[] {
  return [
    registerJob(welcomeEmailJob, welcomeEmailHandler(deps)),
    registerJob(passwordResetEmailJob, passwordResetEmailHandler(deps)),
    registerJob(importUsersJob, importUsersHandler(deps)),
  ];
}
