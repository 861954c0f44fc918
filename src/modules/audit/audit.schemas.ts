import Type from 'typebox';
import { PageQuery, Timestamp, Uuid } from '../../infra/http/schemas.js';

export const AuditQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    action: Type.Optional(Type.String({ minLength: 1, maxLength: 100, examples: ['auth.login'] })),
    userId: Type.Optional(Uuid),
  }),
]);

export const AuditSummary = Type.Object({
  id: Uuid,
  action: Type.String(),
  userId: Type.Union([Uuid, Type.Null()]),
  createdAt: Timestamp,
});

export const AuditDetail = Type.Object({
  id: Uuid,
  action: Type.String(),
  user: Type.Union([
    Type.Object({ id: Uuid, name: Type.String(), email: Type.Union([Type.String(), Type.Null()]) }),
    Type.Null(),
  ]),
  target: Type.Union([Type.Object({ type: Type.String(), id: Type.String() }), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  requestId: Type.Union([Type.String(), Type.Null()]),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Timestamp,
});
