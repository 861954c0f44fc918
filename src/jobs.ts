import type { Deps } from './deps.js';
import { type JobRegistration, type RetryPolicy, registerJob } from './infra/queue/queue.js';
import {
  passwordResetEmailHandler,
  passwordResetEmailJob,
  welcomeEmailHandler,
  welcomeEmailJob,
} from './modules/auth/email-jobs.js';
import { importGivenUp, importUsersHandler, importUsersJob } from './modules/imports/import-users.job.js';
import { deliverWebhookHandler, deliverWebhookJob, deliveryGivenUp } from './modules/webhooks/deliver-webhook.job.js';

/** Every job the workers run, with its handler bound to the dependencies and its retry policy. */
export function jobRegistrations(deps: Deps): JobRegistration<unknown>[] {
  const { config } = deps;
  const retryFor = (seconds: number, maxBackoffMs = config.JOB_MAX_BACKOFF_MS): RetryPolicy => ({
    retryForMs: seconds * 1000,
    backoffMs: config.JOB_BACKOFF_MS,
    maxBackoffMs,
  });
  // Mail outlasts an SMTP outage; an import that keeps failing ends `failed` sooner.
  const mail = { retry: retryFor(config.MAIL_RETRY_SECONDS) };
  return [
    registerJob(welcomeEmailJob, welcomeEmailHandler(deps), mail),
    registerJob(passwordResetEmailJob, passwordResetEmailHandler(deps), mail),
    registerJob(importUsersJob, importUsersHandler(deps), {
      retry: retryFor(config.IMPORT_RETRY_SECONDS),
      giveUp: importGivenUp(deps),
    }),
    // A receiver may be down for a day; its retries space out to WEBHOOK_MAX_BACKOFF_MS meanwhile.
    registerJob(deliverWebhookJob, deliverWebhookHandler(deps), {
      retry: retryFor(config.WEBHOOK_RETRY_SECONDS, config.WEBHOOK_MAX_BACKOFF_MS),
      giveUp: deliveryGivenUp(deps),
    }),
  ];
}
