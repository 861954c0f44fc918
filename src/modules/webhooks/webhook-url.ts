import { isIP } from 'node:net';
import { errors } from '../../infra/http/errors.js';
import { isPublicAddress } from '../../infra/outbound/public-address.js';
import { MAX_WEBHOOK_URL_LENGTH } from './webhooks.schemas.js';

function invalid(message: string) {
  return errors.validation('The webhook is invalid.', [{ field: 'url', message }]);
}

/**
 * Checks a webhook's URL when it is registered, so a mistake is a 400 now rather than a failed
 * delivery later: http or https, no credentials (they would be shown in every listing), and not a
 * literal private address unless those are allowed. A name that resolves to a private address is
 * refused when a delivery connects (DNS can change in between).
 */
export function checkWebhookUrl(text: string, allowPrivate: boolean): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('must be an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('must be an http or https URL');
  if (url.username || url.password) throw invalid('must not carry credentials');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!allowPrivate && isIP(host) && !isPublicAddress(host)) {
    throw invalid('must not point to a loopback, private or link-local address');
  }
  // Written out, the URL may grow (percent-encoding): the limit holds for what is stored.
  if (url.href.length > MAX_WEBHOOK_URL_LENGTH) throw invalid(`must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
  return url.href;
}
