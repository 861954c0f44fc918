import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { principal } from '../../infra/http/principal.js';
import { moduleRoutes } from '../../infra/http/route-auth.js';
import { NoContent, problems } from '../../infra/http/schemas.js';
import { auditOrigin } from '../audit/audit-origin.js';
import { presentUser, UserResponse } from '../users/users.schemas.js';
import {
  ChangePasswordBody,
  ForgotPasswordBody,
  LoginBody,
  RefreshBody,
  RegisterBody,
  ResetPasswordBody,
  StreamTicket,
  TokenPair,
  VerifyEmailBody,
} from './auth.schemas.js';
import { type AuthDeps, createAuthService } from './auth.service.js';

const tags = ['auth'];

const routes: FastifyPluginAsyncTypebox<{ deps: AuthDeps }> = async (app, { deps }) => {
  const auth = createAuthService(deps);

  app.post(
    '/auth/register',
    {
      schema: {
        operationId: 'register',
        tags,
        summary: 'Create an account; a welcome e-mail follows',
        description:
          'Creates a `user` account. E-mails are compared case-insensitively: 409 `EMAIL_TAKEN` when one is ' +
          'taken. A background job sends the welcome e-mail, whose link confirms the address (`verifyEmail`). ' +
          'With `REGISTRATION=closed`, 403 `REGISTRATION_CLOSED`: admins invite instead (`inviteUser`). ' +
          'REGISTER_RATE_LIMIT a minute per IP.',
        body: RegisterBody,
        response: { 201: UserResponse, ...problems(400, 403, 409, 429) },
      },
    },
    async (request, reply) => {
      const user = await auth.register(request.body, auditOrigin(request));
      return reply.status(201).send({ user: presentUser(user) });
    },
  );

  app.post(
    '/auth/login',
    {
      schema: {
        operationId: 'login',
        tags,
        summary: 'Exchange e-mail and password for a token pair',
        description: 'Rate limited per IP and per e-mail (LOGIN_RATE_LIMIT a minute).',
        body: LoginBody,
        response: { 200: TokenPair, ...problems(400, 401, 429) },
      },
    },
    async (request) => auth.login(request.body, auditOrigin(request)),
  );

  app.post(
    '/auth/refresh',
    {
      schema: {
        operationId: 'refreshSession',
        tags,
        summary: 'Spend a refresh token for a new pair',
        description: 'A refresh token works once; presenting a spent one ends the whole session.',
        body: RefreshBody,
        response: { 200: TokenPair, ...problems(400, 401) },
      },
    },
    async (request) => auth.refresh(request.body.refreshToken, auditOrigin(request)),
  );

  app.post(
    '/auth/logout',
    {
      config: { auth: 'user' },
      schema: {
        operationId: 'logout',
        tags,
        summary: "End this session's access and refresh tokens",
        description: 'Both stop working at once, in every process, and the event streams the session opened end.',
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      await auth.logout(principal(request), auditOrigin(request));
      return reply.status(204).send();
    },
  );

  app.post(
    '/auth/forgot-password',
    {
      schema: {
        operationId: 'forgotPassword',
        tags,
        summary: 'E-mail a password reset link',
        description:
          'Answers 202 whether or not the e-mail is known. LOGIN_RATE_LIMIT a minute per IP; one e-mail per ' +
          'address and asking IP in 5 minutes, and 5 an hour per address: past those, 202 and no e-mail.',
        body: ForgotPasswordBody,
        response: { 202: Type.Unsafe<void>({ type: 'null', description: 'Accepted' }), ...problems(400, 429) },
      },
    },
    async (request, reply) => {
      await auth.forgotPassword(request.body.email, auditOrigin(request));
      return reply.status(202).send();
    },
  );

  app.post(
    '/auth/reset-password',
    {
      schema: {
        operationId: 'resetPassword',
        tags,
        summary: 'Set a new password with the e-mailed token',
        description: 'The token works once, for one hour; every session of the user ends.',
        body: ResetPasswordBody,
        response: { 204: NoContent, ...problems(400) },
      },
    },
    async (request, reply) => {
      await auth.resetPassword(request.body, auditOrigin(request));
      return reply.status(204).send();
    },
  );

  app.post(
    '/auth/verify-email',
    {
      schema: {
        operationId: 'verifyEmail',
        tags,
        summary: 'Confirm the e-mail address with the token from the welcome e-mail',
        description: 'The token comes from the link `PUBLIC_URL/verify-email?token=…`; sets `emailVerifiedAt`.',
        body: VerifyEmailBody,
        response: { 204: NoContent, ...problems(400) },
      },
    },
    async (request, reply) => {
      await auth.verifyEmail(request.body.token, auditOrigin(request));
      return reply.status(204).send();
    },
  );

  app.post(
    '/auth/change-password',
    {
      config: { auth: 'user' },
      schema: {
        operationId: 'changePassword',
        tags,
        summary: 'Change the password; every other session ends',
        description:
          'Needs the current password; wrong guesses are limited per session and user, and audited. This ' +
          'session goes on.',
        body: ChangePasswordBody,
        response: { 204: NoContent, ...problems(400) },
      },
    },
    async (request, reply) => {
      await auth.changePassword(principal(request), request.body, auditOrigin(request));
      return reply.status(204).send();
    },
  );

  app.post(
    '/auth/stream-ticket',
    {
      config: { auth: 'user' },
      schema: {
        operationId: 'createStreamTicket',
        tags,
        summary: 'A single-use ticket that opens one event stream',
        description:
          '`EventSource` cannot send an `Authorization` header: ask for a ticket with the header, then open ' +
          '`/tokens/events?ticket=…` or `/users/imports/:id/events?ticket=…` within its lifetime. A ticket ' +
          'works once and only while its session is open; a reconnect asks for a new one.',
        response: { 201: StreamTicket },
      },
    },
    async (request, reply) => reply.status(201).send(await auth.streamTicket(principal(request), auditOrigin(request))),
  );
};

export const authRoutes = moduleRoutes('auth-routes', routes);
