import type { BackgroundWork } from '../../infra/background-work.js';
import { type Backoff, registerJob, retryFor } from '../../infra/queue/queue.js';
import {
  type EmailJobDeps,
  invitationEmailHandler,
  invitationEmailJob,
  passwordResetEmailHandler,
  passwordResetEmailJob,
  welcomeEmailHandler,
  welcomeEmailJob,
} from './email-jobs.js';

/** In worker processes: the account e-mails, retried for MAIL_RETRY_SECONDS to outlast an SMTP outage. */
export function accountEmailWork(deps: EmailJobDeps, backoff: Backoff): BackgroundWork {
  const retry = retryFor(deps.config.MAIL_RETRY_SECONDS, backoff);
  return {
    jobs: [
      registerJob(welcomeEmailJob, welcomeEmailHandler(deps), { retry }),
      registerJob(passwordResetEmailJob, passwordResetEmailHandler(deps), { retry }),
      registerJob(invitationEmailJob, invitationEmailHandler(deps), { retry }),
    ],
  };
}
