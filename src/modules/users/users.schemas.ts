import Type, { type Static } from 'typebox';
import { OneLine, Timestamp, Uuid } from '../../infra/http/schemas.js';
import { MAX_EMAIL_LENGTH } from './email-address.js';
import type { UserRow } from './users.sql.js';

// Surrounding spaces are allowed: e-mails are trimmed (and lower-cased) before use.
export const Email = Type.String({ format: 'email', maxLength: MAX_EMAIL_LENGTH, examples: ['ada@example.com'] });

export const Role = Type.Union([Type.Literal('user'), Type.Literal('admin')]);

export const User = Type.Object({
  id: Uuid,
  name: Type.String(),
  email: Type.Union([Type.String(), Type.Null()], { description: 'Null for a service account.' }),
  birthDate: Type.Union([Type.String({ format: 'date' }), Type.Null()]),
  role: Role,
  emailVerifiedAt: Type.Union([Timestamp, Type.Null()]),
  kind: Type.Union([Type.Literal('person'), Type.Literal('service')], {
    description: '`service`: a service account, which has no e-mail nor password and uses API keys.',
  }),
  createdAt: Timestamp,
});
export type User = Static<typeof User>;

export const InviteBody = Type.Object(
  { name: OneLine({ maxLength: 255 }), email: Email, role: Role },
  { additionalProperties: false, examples: [{ name: 'Ada Lovelace', email: 'ada@example.com', role: 'user' }] },
);

export const UserResponse = Type.Object({ user: User });

export const CreateServiceAccountBody = Type.Object(
  { name: OneLine({ maxLength: 255 }), role: Role },
  { additionalProperties: false, examples: [{ name: 'ci-runners', role: 'user' }] },
);

export const ServiceAccount = Type.Object({
  id: Uuid,
  name: Type.String(),
  role: Role,
  kind: Type.Literal('service'),
  createdAt: Timestamp,
});

export function presentServiceAccount(row: UserRow): Static<typeof ServiceAccount> {
  return { id: row.id, name: row.name, role: row.role, kind: 'service', createdAt: row.createdAt.toISOString() };
}

export function presentUser(row: UserRow): User {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    birthDate: row.birthDate,
    role: row.role,
    emailVerifiedAt: row.emailVerifiedAt?.toISOString() ?? null,
    kind: row.kind,
    createdAt: row.createdAt.toISOString(),
  };
}
