// The API's shapes, taken from the server's own schemas so the two cannot drift apart.
import type { Static } from 'typebox';
import type { Problem as ProblemSchema } from '../../../src/infra/http/schemas.js';
import type {
  ApiKey as ApiKeySchema,
  CreatedApiKey as CreatedApiKeySchema,
} from '../../../src/modules/api-keys/api-keys.schemas.js';
import type {
  AuditDetail as AuditDetailSchema,
  AuditSummary as AuditSummarySchema,
} from '../../../src/modules/audit/audit.schemas.js';
import type { TokenPair as TokenPairSchema } from '../../../src/modules/auth/auth.schemas.js';
import type { ImportStatus } from '../../../src/modules/imports/import-status.js';
import type { TokenEvent } from '../../../src/modules/tokens/token-events.js';
import type {
  HistoryEntry as HistoryEntrySchema,
  Lease as LeaseSchema,
  TokenDetail as TokenDetailSchema,
  TokenList as TokenListSchema,
} from '../../../src/modules/tokens/tokens.schemas.js';
import type { ServiceAccount as ServiceAccountSchema, User } from '../../../src/modules/users/users.schemas.js';
import type {
  CreatedWebhook as CreatedWebhookSchema,
  WebhookDelivery as WebhookDeliverySchema,
  WebhookEndpoint as WebhookEndpointSchema,
} from '../../../src/modules/webhooks/webhooks.schemas.js';

export type { ImportStatus, TokenEvent, User };
/**
 * A problem document as the dashboard holds it: the service's, or one it makes itself when the
 * service could not be reached (`NETWORK`) or answered something else than a problem (`HTTP`).
 */
export type Problem = Omit<Static<typeof ProblemSchema>, 'code'> & {
  code: Static<typeof ProblemSchema>['code'] | 'NETWORK' | 'HTTP';
};
export type TokenPair = Static<typeof TokenPairSchema>;
export type TokenList = Static<typeof TokenListSchema>;
export type Token = TokenList['data'][number];
export type TokenDetail = Static<typeof TokenDetailSchema>;
export type HistoryEntry = Static<typeof HistoryEntrySchema>;
export type Lease = Static<typeof LeaseSchema>;
export type AuditSummary = Static<typeof AuditSummarySchema>;
export type AuditDetail = Static<typeof AuditDetailSchema>;
export type WebhookEndpoint = Static<typeof WebhookEndpointSchema>;
export type WebhookEvent = WebhookEndpoint['events'][number];
export type CreatedWebhook = Static<typeof CreatedWebhookSchema>;
export type WebhookDelivery = Static<typeof WebhookDeliverySchema>;
export type ApiKey = Static<typeof ApiKeySchema>;
export type CreatedApiKey = Static<typeof CreatedApiKeySchema>;
export type ServiceAccount = Static<typeof ServiceAccountSchema>;

export interface Page<T> {
  data: T[];
  meta: { page: number; pageSize: number; total: number; totalPages: number };
}
