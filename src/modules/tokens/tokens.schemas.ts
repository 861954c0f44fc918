import Type from 'typebox';
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

export const LeaseBody = Type.Union([
  Type.Object(
    { userId: Type.Optional({ ...Uuid, description: 'The holder; another user than the caller needs admin.' }) },
    { additionalProperties: false },
  ),
  Type.Null(),
]);

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
