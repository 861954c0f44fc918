import type { BackgroundWork } from '../../infra/background-work.js';
import { type Backoff, registerJob, retryFor } from '../../infra/queue/queue.js';
import { type DeliveryDeps, deliverWebhookHandler, deliverWebhookJob, deliveryGivenUp } from './deliver-webhook.job.js';

/**
 * In worker processes: the deliveries, retried for WEBHOOK_RETRY_SECONDS. A receiver may be down
 * for a day; its retries space out to WEBHOOK_MAX_BACKOFF_MS meanwhile.
 */
export function webhookWork(deps: DeliveryDeps, backoff: Backoff): BackgroundWork {
  const retry = retryFor(deps.config.WEBHOOK_RETRY_SECONDS, {
    ...backoff,
    maxBackoffMs: deps.config.WEBHOOK_MAX_BACKOFF_MS,
  });
  return {
    jobs: [registerJob(deliverWebhookJob, deliverWebhookHandler(deps), { retry, giveUp: deliveryGivenUp(deps) })],
  };
}
