import Type, { type Static } from 'typebox';
import { OneLine, Timestamp, Uuid } from '../../infra/http/schemas.js';
import type { DeliveryRow, EndpointRow } from './webhooks.sql.js';

/** The pool events an endpoint can hear: the audit actions of the pool's changes. */
export const WEBHOOK_EVENTS = [
  'token.leased',
  'token.released',
  'token.expired',
  'token.evicted',
  'tokens.cleared',
] as const;

export const MAX_WEBHOOK_URL_LENGTH = 2048;

const WebhookEvent = Type.Union(
  WEBHOOK_EVENTS.map((event) => Type.Literal(event)),
  { description: 'A pool event.' },
);

export const CreateWebhookBody = Type.Object({
  url: Type.String({
    minLength: 1,
    maxLength: MAX_WEBHOOK_URL_LENGTH,
    description: 'http or https, without credentials; must reach a public address unless WEBHOOK_ALLOW_PRIVATE=true.',
  }),
  events: Type.Optional(
    Type.Array(WebhookEvent, {
      minItems: 1,
      maxItems: WEBHOOK_EVENTS.length,
      uniqueItems: true,
      description: 'The events to deliver; every pool event when left out.',
    }),
  ),
  description: Type.Optional(OneLine({ maxLength: 200 })),
});
export type CreateWebhookBody = Static<typeof CreateWebhookBody>;

export const WebhookEndpoint = Type.Object({
  id: Uuid,
  url: Type.String(),
  events: Type.Array(WebhookEvent),
  description: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
});
type WebhookEndpoint = Static<typeof WebhookEndpoint>;

export const CreatedWebhook = Type.Object({
  ...WebhookEndpoint.properties,
  secret: Type.String({
    pattern: '^whsec_',
    description: 'The signing secret (Standard Webhooks). Shown only in this answer: keep it.',
  }),
});

export const WebhookDelivery = Type.Object({
  id: Uuid,
  event: WebhookEvent,
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
  attempts: Type.Integer({ description: 'Attempts made so far.' }),
  lastStatus: Type.Union([Type.Integer(), Type.Null()], {
    description: 'The HTTP status of the latest attempt; null when it got no answer.',
  }),
  lastError: Type.Union([Type.String(), Type.Null()], { description: 'Why the latest attempt failed.' }),
  createdAt: Timestamp,
  deliveredAt: Type.Union([Timestamp, Type.Null()]),
});
type WebhookDelivery = Static<typeof WebhookDelivery>;

export function presentEndpoint(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    events: row.events as WebhookEndpoint['events'],
    description: row.description,
    createdAt: row.createdAt.toISOString(),
  };
}

export function presentDelivery(row: DeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    event: row.event as WebhookDelivery['event'],
    status: row.status,
    attempts: row.attempts,
    lastStatus: row.lastStatus,
    lastError: row.lastError,
    createdAt: row.createdAt.toISOString(),
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
  };
}
