import Type, { type Static } from 'typebox';
import { OneLine, Timestamp, Uuid } from '../../infra/http/schemas.js';
import { SCOPES } from '../../infra/http/scopes.js';
import type { ApiKeyRow } from './api-keys.sql.js';

export const DEFAULT_EXPIRES_IN_DAYS = 90;
export const DEFAULT_OVERLAP_SECONDS = 86_400;

const Scope = Type.Union(
  SCOPES.map((scope) => Type.Literal(scope)),
  {
    description:
      '`tokens:read` (lists, views, history, validate, events), `tokens:lease` (lease and release its owner’s ' +
      'leases), `pools:admin`, `users:read`, `imports:write`, `audit:read`. The admin scopes (`pools:admin`, ' +
      '`users:read`, `imports:write`) only on keys of admins.',
  },
);

/** A pool's name, as pools will be named. */
const PoolName = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', examples: ['default'] });

export const CreateApiKeyBody = Type.Object(
  {
    name: OneLine({ maxLength: 100 }),
    scopes: Type.Array(Scope, { minItems: 1, maxItems: SCOPES.length, uniqueItems: true }),
    pools: Type.Optional(
      Type.Array(PoolName, {
        minItems: 1,
        maxItems: 100,
        uniqueItems: true,
        description: 'The only pools the key may use; every pool when left out. Today the one pool is `default`.',
      }),
    ),
    expiresInDays: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 365,
        description: `Days until the key expires (default ${DEFAULT_EXPIRES_IN_DAYS}).`,
      }),
    ),
    ownerId: Type.Optional({
      ...Uuid,
      description: 'Admins only: the account the key acts as (a service account, say); the caller when left out.',
    }),
  },
  {
    additionalProperties: false,
    examples: [
      { name: 'ci-runner', scopes: ['tokens:lease', 'tokens:read'] },
      {
        name: 'nightly-import',
        scopes: ['tokens:lease'],
        pools: ['default'],
        expiresInDays: 30,
        ownerId: '0b3f6d2e-8a41-4c7e-9d55-2f1a6c9e7b10',
      },
    ],
  },
);
export type CreateApiKeyBody = Static<typeof CreateApiKeyBody>;

export const RotateApiKeyBody = Type.Union(
  [
    Type.Object(
      {
        overlapSeconds: Type.Optional(
          Type.Integer({
            minimum: 0,
            maximum: 604_800,
            description: `How long the old key keeps working, in seconds (default ${DEFAULT_OVERLAP_SECONDS}).`,
          }),
        ),
      },
      { additionalProperties: false },
    ),
    Type.Null(),
  ],
  { examples: [{}, { overlapSeconds: 3600 }, { overlapSeconds: 0 }] },
);

export const ApiKey = Type.Object({
  id: Uuid,
  name: Type.String(),
  scopes: Type.Array(Scope),
  pools: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'Null: every pool.' }),
  prefix: Type.String({ description: 'The key’s first 12 characters, to recognise it.', examples: ['tp_sk_4fZq2b'] }),
  ownerId: Uuid,
  expiresAt: Timestamp,
  createdAt: Timestamp,
  lastUsedAt: Type.Union([Timestamp, Type.Null()], { description: 'Written at most once a minute.' }),
});
type ApiKey = Static<typeof ApiKey>;

export const CreatedApiKey = Type.Object({
  ...ApiKey.properties,
  key: Type.String({
    pattern: '^tp_sk_[0-9A-Za-z]{38,70}$',
    description: 'The key itself: send it as `Authorization: Bearer <key>`. Shown only in this answer: keep it.',
  }),
});

export function presentApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes as ApiKey['scopes'],
    pools: row.pools,
    prefix: row.prefix,
    ownerId: row.ownerId,
    expiresAt: row.expiresAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}
