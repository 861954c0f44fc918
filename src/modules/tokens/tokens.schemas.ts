import Type, { type Static } from 'typebox';
import { PageQuery, Uuid } from '../../infra/http/schemas.js';

const Instant = Type.String({ format: 'date-time', description: 'ISO-8601 UTC, with microseconds.' });
const OptionalInstant = Type.Union([Instant, Type.Null()]);
const Status = Type.Union([Type.Literal('available'), Type.Literal('active')]);
const EndReason = Type.Union([
  Type.Literal('expired'),
  Type.Literal('released'),
  Type.Literal('evicted'),
  Type.Literal('cleared'),
]);

export const LeaseBody = Type.Union(
  [
    Type.Object(
      { userId: Type.Optional({ ...Uuid, description: 'The holder; another user than the caller needs admin.' }) },
      { additionalProperties: false },
    ),
    Type.Null(),
  ],
  // The first for oneself; the second is an admin leasing for someone else.
  { examples: [{}, { userId: '0b3f6d2e-8a41-4c7e-9d55-2f1a6c9e7b10' }] },
);

export const Lease = Type.Object({
  tokenId: Uuid,
  userId: Uuid,
  leasedAt: Instant,
  expiresAt: Instant,
  evictedUserId: Type.Union([Uuid, Type.Null()], { description: 'Whose lease was evicted to make room, if any.' }),
});

const Token = Type.Object({
  id: Uuid,
  status: Status,
  userId: Type.Union([Uuid, Type.Null()]),
  leasedAt: OptionalInstant,
  expiresAt: OptionalInstant,
});

export const TokenListQuery = Type.Object({ status: Type.Optional(Status) });

export const TokenList = Type.Object({
  data: Type.Array(Token),
  meta: Type.Object({ total: Type.Integer(), active: Type.Integer(), available: Type.Integer() }),
});

export const HistoryEntry = Type.Object({
  userId: Uuid,
  leasedAt: Instant,
  expiresAt: Instant,
  endedAt: OptionalInstant,
  endReason: Type.Union([EndReason, Type.Null()]),
});

export const TokenDetail = Type.Object({
  ...Token.properties,
  history: Type.Array(HistoryEntry, { description: 'The 10 latest leases, newest first.' }),
});

export const HistoryQuery = PageQuery;

export const Released = Type.Object({ released: Type.Integer() });

/**
 * What the pool's event stream sends, by event name; `type` repeats the name. The payloads' type
 * is taken from these schemas, so the documented events are the ones sent.
 */
export const TokenEventPayloads = {
  leased: Type.Object({
    type: Type.Literal('leased'),
    tokenId: Uuid,
    userId: Uuid,
    leasedAt: Instant,
    expiresAt: Instant,
  }),
  released: Type.Object({ type: Type.Literal('released'), tokenId: Uuid, userId: Uuid, endedAt: Instant }),
  expired: Type.Object({ type: Type.Literal('expired'), tokenId: Uuid, userId: Uuid, endedAt: Instant }),
  evicted: Type.Object(
    {
      type: Type.Literal('evicted'),
      tokenId: Uuid,
      userId: Uuid,
      byUserId: { ...Uuid, description: 'The new holder.' },
    },
    { description: 'The lease of `userId` ended to make room; a `leased` event for the new holder follows.' },
  ),
  cleared: Type.Object(
    { type: Type.Literal('cleared'), released: Type.Integer(), tokenIds: Type.Array(Uuid) },
    { description: 'An admin ended every active lease.' },
  ),
};

export type TokenEvent = Static<(typeof TokenEventPayloads)[keyof typeof TokenEventPayloads]>;
