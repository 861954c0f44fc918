import Type from 'typebox';
import { User } from '../users/users.schemas.js';

// Surrounding spaces are allowed: e-mails are trimmed (and lower-cased) before use.
const Email = Type.String({ format: 'email', maxLength: 320, examples: ['ada@example.com'] });
const Password = Type.String({ minLength: 8, maxLength: 128 });
const OpaqueToken = Type.String({ minLength: 1, maxLength: 512 });

export const RegisterBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    email: Email,
    password: Password,
    birthDate: Type.Optional(Type.Union([Type.String({ format: 'date' }), Type.Null()])),
  },
  { additionalProperties: false },
);

export const RegisterResponse = Type.Object({ user: User });

export const LoginBody = Type.Object({ email: Email, password: Type.String({ minLength: 1, maxLength: 1024 }) });

export const TokenPair = Type.Object({
  accessToken: Type.String(),
  refreshToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'Seconds until the access token expires.' }),
});

export const StreamTicket = Type.Object({
  ticket: Type.String({ description: 'Pass as `?ticket=` to one event stream route; works once.' }),
  expiresIn: Type.Integer({ description: 'Seconds the ticket stays usable.' }),
});

export const RefreshBody = Type.Object({ refreshToken: OpaqueToken });
export const ForgotPasswordBody = Type.Object({ email: Email });
export const ResetPasswordBody = Type.Object({ token: OpaqueToken, password: Password });
export const VerifyEmailBody = Type.Object({ token: OpaqueToken });
export const ChangePasswordBody = Type.Object({
  currentPassword: Type.String({ minLength: 1, maxLength: 1024 }),
  newPassword: Password,
});
