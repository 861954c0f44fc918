import type { Config } from '../../config.js';
import type { Database, Executor } from '../../infra/db/database.js';
import { errors } from '../../infra/http/errors.js';
import type { Principal } from '../../infra/http/principal.js';
import { enqueueJob } from '../../infra/queue/jobs.sql.js';
import type { JobQueue } from '../../infra/queue/queue.js';
import { clientNetwork } from '../../infra/rate-limit/client-network.js';
import type { RateLimiter } from '../../infra/rate-limit/rate-limiter.js';
import { insertAuditEntry } from '../audit/audit.sql.js';
import type { AuditOrigin } from '../audit/audit-origin.js';
import {
  findUserByEmail,
  findUserById,
  insertUser,
  markEmailVerified,
  normalizeEmail,
  type UserRow,
} from '../users/users.sql.js';
import type { AccessCredentials } from './access-credentials.js';
import { passwordResetEmailJob, welcomeEmailJob } from './email-jobs.js';
import { consumeEmailLink, isLiveEmailLink } from './email-links.sql.js';
import { createFailureLimits, refuse } from './failure-limits.js';
import { hashSecret, newOpaqueSecret } from './opaque-secrets.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { replacePassword } from './replace-password.js';
import type { SessionEnds } from './session-cache.js';
import {
  findRefreshToken,
  insertRefreshToken,
  insertSession,
  revokeSession,
  revokeUserSessions,
  spendRefreshToken,
} from './sessions.sql.js';
import { insertStreamTicket } from './stream-tickets.sql.js';

export interface TokenPairResult {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

const RATE_WINDOW_MS = 60_000;
/**
 * Reset e-mails to one address: one per asking IP in FORGOT_COOLDOWN_MS, and FORGOT_PER_ADDRESS in
 * FORGOT_ADDRESS_WINDOW_MS from all IPs together. Past either the request still answers 202 and
 * sends nothing: a flood costs the owner at most a handful of e-mails, each with a working link,
 * and never a refusal, so the owner asking from their own address is not locked out.
 */
const FORGOT_COOLDOWN_MS = 5 * 60_000;
const FORGOT_PER_ADDRESS = 5;
const FORGOT_ADDRESS_WINDOW_MS = 60 * 60_000;
/** Long enough to open a stream right after asking; a reconnect asks again. */
const STREAM_TICKET_TTL_SECONDS = 30;

/** What accounts are built from. */
export interface AuthDeps {
  readonly database: Database;
  readonly queue: JobQueue;
  readonly accessCredentials: AccessCredentials;
  readonly rateLimiter: RateLimiter;
  readonly config: Config;
  readonly sessions: SessionEnds;
}

export function createAuthService({ database, queue, accessCredentials, rateLimiter, config, sessions }: AuthDeps) {
  const { db } = database;
  const failureLimits = createFailureLimits(rateLimiter, config);

  /** Counts one request to `route` from the caller's IP: AUTH_RATE_LIMIT a minute unless told, on every costly public route. */
  async function limitIp(route: string, context: AuditOrigin, perMinute = config.AUTH_RATE_LIMIT): Promise<void> {
    const result = await rateLimiter.hit(`route:${route}:ip:${clientNetwork(context.ip)}`, perMinute, RATE_WINDOW_MS);
    if (!result.allowed) throw refuse(result);
  }

  /** Counts a forgot-password request against the caller's IP, which refuses past LOGIN_RATE_LIMIT. */
  async function limitForgot(context: AuditOrigin): Promise<void> {
    const result = await rateLimiter.hit(
      `forgot-password:ip:${clientNetwork(context.ip)}`,
      config.LOGIN_RATE_LIMIT,
      RATE_WINDOW_MS,
    );
    if (!result.allowed) throw refuse(result);
  }

  /** Whether this request may e-mail the address, per FORGOT_COOLDOWN_MS and FORGOT_PER_ADDRESS. */
  async function mayMailReset(email: string, context: AuditOrigin): Promise<boolean> {
    const pair = await rateLimiter.hit(
      `forgot-password:pair:${clientNetwork(context.ip)}:${email}`,
      1,
      FORGOT_COOLDOWN_MS,
    );
    if (!pair.allowed) return false;
    const address = await rateLimiter.hit(
      `forgot-password:email:${email}`,
      FORGOT_PER_ADDRESS,
      FORGOT_ADDRESS_WINDOW_MS,
    );
    return address.allowed;
  }

  /** Opens a refresh token on the session, inside the caller's transaction, and signs an access token. */
  async function issuePair(executor: Executor, claims: Principal): Promise<TokenPairResult> {
    const refreshToken = newOpaqueSecret();
    await insertRefreshToken(executor, claims.sessionId, hashSecret(refreshToken), config.REFRESH_TOKEN_TTL_SECONDS);
    return {
      accessToken: await accessCredentials.issue(claims),
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: accessCredentials.ttlSeconds,
    };
  }

  return {
    async register(
      input: { name: string; email: string; password: string; birthDate?: string | null | undefined },
      context: AuditOrigin,
    ): Promise<UserRow> {
      if (config.REGISTRATION === 'closed') throw errors.registrationClosed();
      await limitIp('register', context, config.REGISTER_RATE_LIMIT);
      if (input.birthDate && input.birthDate > new Date().toISOString().slice(0, 10)) {
        throw errors.validation('The body is invalid.', [{ field: 'birthDate', message: 'must not be in the future' }]);
      }
      const passwordHash = await hashPassword(input.password);
      const user = await db.transaction(async (tx) => {
        const created = await insertUser(tx, {
          name: input.name.trim(),
          email: normalizeEmail(input.email),
          passwordHash,
          birthDate: input.birthDate ?? null,
        });
        if (!created) throw errors.emailTaken();
        await insertAuditEntry(tx, {
          action: 'user.registered',
          userId: created.id,
          target: { type: 'user', id: created.id },
          context,
        });
        await enqueueJob(tx, welcomeEmailJob, { userId: created.id });
        return created;
      });
      queue.wake();
      return user;
    },

    async login(input: { email: string; password: string }, context: AuditOrigin): Promise<TokenPairResult> {
      const email = normalizeEmail(input.email);
      await limitIp('login', context);
      const user = await findUserByEmail(db, email);
      // verifyPassword spends the same time on an unknown account, so the answer tells nothing.
      const valid = await failureLimits.login(email, clientNetwork(context.ip), () =>
        verifyPassword(user?.passwordHash ?? null, input.password),
      );
      if (!user || !valid) {
        await insertAuditEntry(db, {
          action: 'auth.login_failed',
          userId: user?.id ?? null,
          metadata: { email, reason: user ? 'wrong_password' : 'unknown_email' },
          context,
        });
        throw errors.invalidCredentials();
      }
      return db.transaction(async (tx) => {
        const sessionId = await insertSession(tx, user.id);
        await insertAuditEntry(tx, {
          action: 'auth.login',
          userId: user.id,
          target: { type: 'session', id: sessionId },
          context,
        });
        return issuePair(tx, { userId: user.id, role: user.role, sessionId });
      });
    },

    async refresh(refreshToken: string, context: AuditOrigin): Promise<TokenPairResult> {
      await limitIp('refresh', context);
      const tokenHash = hashSecret(refreshToken);
      // `userId` of a reuse that ended the session.
      type Outcome = { kind: 'ok'; pair: TokenPairResult } | { kind: 'reused'; userId?: string } | { kind: 'invalid' };
      const outcome = await db.transaction(async (tx): Promise<Outcome> => {
        const spent = await spendRefreshToken(tx, tokenHash);
        if (!spent) {
          const known = await findRefreshToken(tx, tokenHash);
          // A spent token shown again means it leaked, or a client replayed it: end the session.
          if (known?.spentAt && (await revokeSession(tx, known.sessionId, 'refresh_token_reused'))) {
            await insertAuditEntry(tx, {
              action: 'auth.refresh_reused',
              userId: known.userId,
              target: { type: 'session', id: known.sessionId },
              context,
            });
            return { kind: 'reused', userId: known.userId };
          }
          return { kind: known?.spentAt ? 'reused' : 'invalid' };
        }
        await insertAuditEntry(tx, {
          action: 'auth.refresh',
          userId: spent.userId,
          target: { type: 'session', id: spent.sessionId },
          context,
        });
        return { kind: 'ok', pair: await issuePair(tx, spent) };
      });
      if (outcome.kind === 'reused') {
        if (outcome.userId) await sessions.ended(outcome.userId);
        throw errors.refreshTokenReused();
      }
      if (outcome.kind === 'invalid') throw errors.invalidRefreshToken();
      return outcome.pair;
    },

    async logout(principal: Principal, context: AuditOrigin): Promise<void> {
      await db.transaction(async (tx) => {
        await revokeSession(tx, principal.sessionId, 'logout');
        await insertAuditEntry(tx, {
          action: 'auth.logout',
          userId: principal.userId,
          target: { type: 'session', id: principal.sessionId },
          context,
        });
      });
      await sessions.ended(principal.userId);
    },

    /** A single-use ticket that opens one event stream for this session; see stream-tickets.sql. */
    async streamTicket(principal: Principal, context: AuditOrigin): Promise<{ ticket: string; expiresIn: number }> {
      await limitIp('stream-ticket', context);
      const ticket = newOpaqueSecret();
      await insertStreamTicket(database, {
        ticketHash: hashSecret(ticket),
        sessionId: principal.sessionId,
        ttlSeconds: STREAM_TICKET_TTL_SECONDS,
      });
      return { ticket, expiresIn: STREAM_TICKET_TTL_SECONDS };
    },

    /** Answers the same for known and unknown e-mails; only a known one gets a link. */
    async forgotPassword(rawEmail: string, context: AuditOrigin): Promise<void> {
      const email = normalizeEmail(rawEmail);
      await limitIp('forgot-password', context);
      await limitForgot(context);
      // Counted for unknown e-mails too, so the time taken tells nothing about the address.
      const mail = await mayMailReset(email, context);
      const user = await findUserByEmail(db, email);
      await db.transaction(async (tx) => {
        await insertAuditEntry(tx, {
          action: 'auth.password_reset_requested',
          userId: user?.id ?? null,
          metadata: user ? (mail ? {} : { reason: 'recently_mailed' }) : { email, reason: 'unknown_email' },
          context,
        });
        if (user && mail) await enqueueJob(tx, passwordResetEmailJob, { userId: user.id });
      });
      if (user && mail) queue.wake();
    },

    async resetPassword(input: { token: string; password: string }, context: AuditOrigin): Promise<void> {
      await limitIp('reset-password', context);
      // Hashing costs tens of milliseconds of CPU: a bogus token must not get that far.
      if (!(await isLiveEmailLink(db, hashSecret(input.token), 'password_reset'))) {
        throw errors.invalidEmailLink();
      }
      const passwordHash = await hashPassword(input.password);
      const accountId = await db.transaction(async (tx) => {
        // The token is spent before the password changes, in the same transaction: of two racing
        // requests with one token, only one can get past this line.
        const userId = await consumeEmailLink(tx, hashSecret(input.token), 'password_reset');
        if (!userId) throw errors.invalidEmailLink();
        await replacePassword(tx, userId, passwordHash);
        // The link came to the address: that confirms it, as the welcome e-mail's would (an
        // invited user gets no other).
        await markEmailVerified(tx, userId);
        const ended = await revokeUserSessions(tx, userId, 'password_reset');
        await insertAuditEntry(tx, {
          action: 'auth.password_reset',
          userId,
          target: { type: 'user', id: userId },
          metadata: { sessionsEnded: ended },
          context,
        });
        return userId;
      });
      await sessions.ended(accountId);
    },

    async verifyEmail(token: string, context: AuditOrigin): Promise<void> {
      await limitIp('verify-email', context);
      await db.transaction(async (tx) => {
        const userId = await consumeEmailLink(tx, hashSecret(token), 'email_verification');
        if (!userId) throw errors.invalidEmailLink();
        await markEmailVerified(tx, userId);
        await insertAuditEntry(tx, {
          action: 'auth.email_verified',
          userId,
          target: { type: 'user', id: userId },
          context,
        });
      });
    },

    async changePassword(
      principal: Principal,
      input: { currentPassword: string; newPassword: string },
      context: AuditOrigin,
    ): Promise<void> {
      const user = await findUserById(db, principal.userId);
      if (!user) throw errors.unauthenticated('The account no longer exists.');
      const right = await failureLimits.changePassword(principal, () =>
        verifyPassword(user.passwordHash, input.currentPassword),
      );
      if (!right) {
        await insertAuditEntry(db, {
          action: 'auth.password_change_failed',
          userId: user.id,
          target: { type: 'session', id: principal.sessionId },
          context,
        });
        throw errors.validation('The current password is wrong.', [
          { field: 'currentPassword', message: 'is not the current password' },
        ]);
      }
      const passwordHash = await hashPassword(input.newPassword);
      await db.transaction(async (tx) => {
        await replacePassword(tx, user.id, passwordHash);
        const ended = await revokeUserSessions(tx, user.id, 'password_changed', principal.sessionId);
        await insertAuditEntry(tx, {
          action: 'auth.password_changed',
          userId: user.id,
          target: { type: 'user', id: user.id },
          metadata: { sessionsEnded: ended },
          context,
        });
      });
      await sessions.ended(user.id);
    },
  };
}
