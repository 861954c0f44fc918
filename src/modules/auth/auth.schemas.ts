import Type from 'typebox';
import { OneLine } from '../../infra/http/schemas.js';
import { Email } from '../users/users.schemas.js';

const Password = Type.String({ minLength: 8, maxLength: 128 });
// The request bodies' examples in the OpenAPI document.
const EXAMPLE_PASSWORD = 'correct horse battery staple';
const EXAMPLE_TOKEN = 'mF2kq7Xv9Lw3rT8yBn4pZc6dHs1gJe5aQu0oVi2tRkE';

// Tokens this service makes are base64url; anything else is refused before any lookup.
const OpaqueToken = Type.String({
  minLength: 1,
  maxLength: 512,
  pattern: '^[A-Za-z0-9_-]+$',
  description: 'a token from this service (letters, digits, - and _)',
});
// A real birth date: from 1900 (the service also refuses one in the future).
const BirthDate = Type.String({
  format: 'date',
  pattern: '^(19|2\\d)\\d\\d-',
  description: 'a date from 1900-01-01 on, YYYY-MM-DD',
  examples: ['1990-04-12'],
});

export const RegisterBody = Type.Object(
  {
    name: OneLine({ maxLength: 255 }),
    email: Email,
    password: Password,
    birthDate: Type.Optional(Type.Union([BirthDate, Type.Null()])),
  },
  {
    additionalProperties: false,
    examples: [{ name: 'Ada Lovelace', email: 'ada@example.com', password: EXAMPLE_PASSWORD, birthDate: '1990-04-12' }],
  },
);

export const LoginBody = Type.Object(
  { email: Email, password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { examples: [{ email: 'ada@example.com', password: EXAMPLE_PASSWORD }] },
);

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

export const RefreshBody = Type.Object({ refreshToken: OpaqueToken }, { examples: [{ refreshToken: EXAMPLE_TOKEN }] });
export const ForgotPasswordBody = Type.Object({ email: Email }, { examples: [{ email: 'ada@example.com' }] });
export const ResetPasswordBody = Type.Object(
  { token: OpaqueToken, password: Password },
  { examples: [{ token: EXAMPLE_TOKEN, password: 'a new and longer passphrase' }] },
);
export const VerifyEmailBody = Type.Object({ token: OpaqueToken }, { examples: [{ token: EXAMPLE_TOKEN }] });
export const ChangePasswordBody = Type.Object(
  { currentPassword: Type.String({ minLength: 1, maxLength: 1024 }), newPassword: Password },
  { examples: [{ currentPassword: EXAMPLE_PASSWORD, newPassword: 'a new and longer passphrase' }] },
);
