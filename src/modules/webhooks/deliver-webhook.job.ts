import type { Config } from '../../config.js';
import type { Database } from '../../infra/db/database.js';
import { createOutboundHttp, OutboundRefusedError, type OutboundResponse } from '../../infra/outbound/outbound-http.js';
import { defineJob, type JobHandler, PermanentJobError } from '../../infra/queue/queue.js';
import { describeJobError } from '../../infra/queue/run-job.js';
import { signatureHeaders } from './webhook-signature.js';
import { type Attempt, failDelivery, findDeliveryToSend, recordAttempt } from './webhooks.sql.js';

interface DeliveryPayload {
  deliveryId: string;
}

/** Written by the audit_logs trigger (migrations/0009_webhooks.sql) under this same name. */
export const deliverWebhookJob = defineJob<DeliveryPayload>('webhooks.deliver');

/** What a delivery is sent with. */
export interface DeliveryDeps {
  readonly database: Database;
  readonly config: Pick<
    Config,
    | 'WEBHOOK_ALLOW_PRIVATE'
    | 'WEBHOOK_CONNECT_TIMEOUT_MS'
    | 'WEBHOOK_RESPONSE_TIMEOUT_MS'
    | 'WEBHOOK_RETRY_SECONDS'
    | 'WEBHOOK_MAX_BACKOFF_MS'
  >;
}

// The start of a failing answer's body is kept in the delivery log, to tell an admin why.
const ANSWER_EXCERPT_CHARS = 200;

function outcomeOf(response: OutboundResponse): Attempt {
  const { status } = response;
  if (status >= 200 && status < 300) return { status, error: null };
  const excerpt = response.body.replace(/\s+/g, ' ').trim().slice(0, ANSWER_EXCERPT_CHARS);
  const why = status >= 300 && status < 400 ? 'redirects are not followed' : excerpt || 'no body';
  return { status, error: `HTTP ${status}: ${why}` };
}

/**
 * Sends one delivery, signed, and records the attempt. A 2xx delivers it; anything else is
 * retried by the job's policy until its window closes, except a refused address, which no retry
 * can reach. Safe to run twice: a delivery already settled is left alone (a receiver may still
 * get a second copy when a run dies between its POST and its record, hence the stable webhook-id).
 */
export function deliverWebhookHandler({ database: { db }, config }: DeliveryDeps): JobHandler<DeliveryPayload> {
  const http = createOutboundHttp({
    allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
    connectTimeoutMs: config.WEBHOOK_CONNECT_TIMEOUT_MS,
    responseTimeoutMs: config.WEBHOOK_RESPONSE_TIMEOUT_MS,
  });
  return async ({ deliveryId }) => {
    const found = await findDeliveryToSend(db, deliveryId);
    if (found?.delivery.status !== 'pending') return;
    const { delivery, endpoint } = found;
    if (endpoint.deletedAt) {
      await failDelivery(db, delivery.id, 'the endpoint was deleted');
      return;
    }
    const body = JSON.stringify({
      type: delivery.event,
      timestamp: delivery.occurredAt.toISOString(),
      data: delivery.data,
    });
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Tokenpool-Webhooks/1',
      ...signatureHeaders(endpoint.secret, delivery.id, Math.floor(Date.now() / 1000), body),
    };
    let attempt: Attempt;
    let refused = false;
    try {
      attempt = outcomeOf(await http.post(endpoint.url, headers, body));
    } catch (error) {
      refused = error instanceof OutboundRefusedError;
      // A refusal's own words, no more (see outbound-http's refusal).
      attempt = { status: null, error: refused ? (error as Error).message : describeJobError(error) };
    }
    await recordAttempt(db, delivery.id, attempt);
    if (attempt.error === null) return;
    throw refused ? new PermanentJobError(attempt.error) : new Error(attempt.error);
  };
}

/** A delivery whose retries ran out ends `failed`, with its last error. */
export function deliveryGivenUp({ database: { db } }: DeliveryDeps) {
  return async ({ deliveryId }: DeliveryPayload, reason: string) => failDelivery(db, deliveryId, reason);
}
