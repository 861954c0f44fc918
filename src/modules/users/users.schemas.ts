import Type, { type Static } from 'typebox';
import { Timestamp, Uuid } from '../../infra/http/schemas.js';
import type { UserRow } from './users.sql.js';

export const User = Type.Object({
  id: Uuid,
  name: Type.String(),
  email: Type.String(),
  birthDate: Type.Union([Type.String({ format: 'date' }), Type.Null()]),
  role: Type.Union([Type.Literal('user'), Type.Literal('admin')]),
  emailVerifiedAt: Type.Union([Timestamp, Type.Null()]),
  createdAt: Timestamp,
});
export type User = Static<typeof User>;

export function presentUser(row: UserRow): User {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    birthDate: row.birthDate,
    role: row.role,
    emailVerifiedAt: row.emailVerifiedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}
