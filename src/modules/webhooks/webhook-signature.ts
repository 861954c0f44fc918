import { createHmac, randomBytes } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';
// More than the 24 bytes Standard Webhooks asks for at least.
const SECRET_BYTES = 32;

/** A new signing secret, as Standard Webhooks writes one: `whsec_` and base64 random bytes. */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/**
 * The headers that sign one attempt the Standard Webhooks way: the HMAC-SHA256 of
 * `id.timestamp.body`, keyed by the secret's decoded bytes. `id` stays the same on every attempt
 * (receivers deduplicate on it); the timestamp is the attempt's, so a late retry still falls inside
 * the receiver's tolerance for replays.
 */
export function signatureHeaders(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1,${signature}`,
  };
}
