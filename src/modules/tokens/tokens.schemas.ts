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

/** How long `onFull: "wait"` waits: by default, and at the most. */
export const DEFAULT_WAIT_SECONDS = 30;
export const MAX_WAIT_SECONDS = 60;

/** The largest `metadata`, as JSON text. */
export const MAX_METADATA_BYTES = 1024;

const Metadata = Type.Record(Type.String({ maxLength: 128 }), Type.Unknown(), {
  maxProperties: 64,
  description: `Anything the holder wants kept with its lease ("who is this and why"): a JSON object of at most ${MAX_METADATA_BYTES} bytes.`,
});
const OptionalMetadata = Type.Union([Metadata, Type.Null()]);
const Fence = Type.Integer({
  minimum: 1,
  description:
    'Greater than the fence of every lease granted before this one: a service guarded by the token ' +
    'refuses a holder whose fence is lower than one it has already seen (see GET /tokens/{id}/validate).',
});

export const LeaseBody = Type.Union(
  [
    Type.Object(
      {
        userId: Type.Optional({ ...Uuid, description: 'The holder; another user than the caller needs admin.' }),
        onFull: Type.Optional(
          Type.Union([Type.Literal('evict'), Type.Literal('fail'), Type.Literal('wait')], {
            description:
              'When every token is held: `evict` (the default) takes the oldest lease, whose holder loses it; `fail` answers ' +
              '409 POOL_FULL with Retry-After, the seconds until the first lease ends; `wait` waits up to `waitSeconds` for ' +
              'a token freed by a release, an expiry or a clear, first come first served across every process, then ' +
              'answers 409 POOL_FULL. A waiting client that goes away never ends up holding a lease.',
          }),
        ),
        waitSeconds: Type.Optional(
          Type.Integer({
            minimum: 1,
            maximum: MAX_WAIT_SECONDS,
            description: `With \`onFull: "wait"\` only: how long to wait, in seconds (default ${DEFAULT_WAIT_SECONDS}).`,
          }),
        ),
        metadata: Type.Optional(Metadata),
      },
      { additionalProperties: false },
    ),
    Type.Null(),
  ],
  // For oneself; an admin leasing for someone else; one who would rather fail than take anyone's
  // token; one who would rather wait for a token to come free.
  {
    examples: [
      {},
      { userId: '0b3f6d2e-8a41-4c7e-9d55-2f1a6c9e7b10' },
      { onFull: 'fail', metadata: { job: 'nightly-report', host: 'worker-3' } },
      { onFull: 'wait', waitSeconds: 10 },
    ],
  },
);

export const Lease = Type.Object({
  tokenId: Uuid,
  userId: Uuid,
  leasedAt: Instant,
  expiresAt: Instant,
  evictedUserId: Type.Union([Uuid, Type.Null()], { description: 'Whose lease was evicted to make room, if any.' }),
  fence: Fence,
  metadata: OptionalMetadata,
});

const Token = Type.Object({
  id: Uuid,
  status: Status,
  userId: Type.Union([Uuid, Type.Null()]),
  leasedAt: OptionalInstant,
  expiresAt: OptionalInstant,
  fence: Type.Union([Fence, Type.Null()], { description: "The active lease's fence." }),
  metadata: OptionalMetadata,
});

export const TokenListQuery = Type.Object({ status: Type.Optional(Status) });

export const EventsQuery = Type.Object({
  userId: Type.Optional({ ...Uuid, description: 'Only the events about this holder (users: themselves only).' }),
});

export const TokenList = Type.Object({
  data: Type.Array(Token),
  meta: Type.Object({
    total: Type.Integer(),
    active: Type.Integer(),
    available: Type.Integer(),
    waiting: Type.Integer({ description: 'Lease requests waiting for a token (`onFull: "wait"`), in every process.' }),
  }),
});

export const HistoryEntry = Type.Object({
  userId: Uuid,
  leasedAt: Instant,
  expiresAt: Instant,
  endedAt: OptionalInstant,
  endReason: Type.Union([EndReason, Type.Null()]),
  fence: Fence,
  metadata: OptionalMetadata,
});

export const ValidateQuery = Type.Object({
  userId: { ...Uuid, description: 'The holder to check.' },
  fence: { ...Fence, description: 'The fence its lease answer carried.' },
});

export const Validation = Type.Union(
  [
    Type.Object({ valid: Type.Literal(true), expiresAt: Instant }),
    Type.Object({
      valid: Type.Literal(false),
      reason: Type.Union(
        [
          Type.Literal('evicted'),
          Type.Literal('expired'),
          Type.Literal('released'),
          Type.Literal('cleared'),
          Type.Literal('superseded'),
          Type.Literal('unknown'),
        ],
        {
          description:
            'How that lease ended; `superseded` when the same holder now holds the token under a newer ' +
            'fence; `unknown` when no lease of this holder on this token has that fence.',
        },
      ),
    }),
  ],
  { description: 'Whether that holder, with that fence, holds the token now, by the database clock.' },
);

export type LeaseValidation = Static<typeof Validation>;

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
    fence: Fence,
    metadata: OptionalMetadata,
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
  waiting: Type.Object(
    { type: Type.Literal('waiting'), waiting: Type.Integer({ minimum: 0 }) },
    {
      description:
        'The line of requests waiting for a token (`onFull: "wait"`) changed: how many wait now, in every process. ' +
        'Not sent on a stream filtered by `userId`.',
    },
  ),
};

export type TokenEvent = Static<(typeof TokenEventPayloads)[keyof typeof TokenEventPayloads]>;
