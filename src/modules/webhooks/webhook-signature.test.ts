import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret, signatureHeaders } from './webhook-signature.js';

describe('webhook signatures', () => {
  it('are what the standardwebhooks library verifies', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify({ type: 'token.leased', timestamp: new Date().toISOString(), data: { a: 1 } });
    const headers = signatureHeaders(
      secret,
      'b7f4c1d2-0000-4000-8000-000000000001',
      Math.floor(Date.now() / 1000),
      body,
    );
    expect(new Webhook(secret).verify(body, headers)).toMatchObject({ type: 'token.leased' });
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
  });
});
