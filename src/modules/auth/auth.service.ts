import type { Deps } from '../../deps.js';
import type { Executor } from '../../infra/db/database.js';
import { errors } from '../../infra/http/errors.js';
import type { RequestContext } from '../../infra/http/request-context.js';
import { enqueueJob } from '../../infra/queue/jobs.sql.js';
import { insertAuditEntry } from '../audit/audit.sql.js';
import {
  findUserByEmail,
  findUserById,
  insertUser,
  markEmailVerified,
  normalizeEmail,
  type UserRow,
  updatePasswordHash,
} from '../users/users.sql.js';
import type { AccessClaims } from './access-tokens.js';
import { passwordResetEmailJob, welcomeEmailJob } from './email-jobs.js';
import { consumeOneTimeToken, isLiveOneTimeToken, spendAllOneTimeTokens } from './one-time-tokens.sql.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { hashToken, newOpaqueToken } from './secure-tokens.js';
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
/** Long enough to open a stream right after asking; a reconnect asks again. */
const STREAM_TICKET_TTL_SECONDS = 30;

export function createAuthService(
  deps: Pick<Deps, 'db' | 'database' | 'queue' | 'accessTokens' | 'rateLimiter' | 'config'>,
) {
  const { db, database, queue, accessTokens, rateLimiter, config } = deps;

  /** Counts the attempt against both the caller's IP and the e-mail it names; either can refuse. */
  async function limit(kind: 'login' | 'forgot-password', email: string, context: RequestContext): Promise<void> {
    const results = await Promise.all([
      rateLimiter.hit(`${kind}:ip:${context.ip ?? 'unknown'}`, config.LOGIN_RATE_LIMIT, RATE_WINDOW_MS),
      rateLimiter.hit(`${kind}:email:${email}`, config.LOGIN_RATE_LIMIT, RATE_WINDOW_MS),
    ]);
    const refused = results.filter((result) => !result.allowed);
    if (refused.length > 0) {
      throw errors.rateLimited(Math.ceil(Math.max(...refused.map((r) => r.retryAfterMs)) / 1000));
    }
  }

  /** Opens a refresh token on the session, inside the caller's transaction, and signs an access token. */
  async function issuePair(executor: Executor, claims: AccessClaims): Promise<TokenPairResult> {
    const refreshToken = newOpaqueToken();
    await insertRefreshToken(executor, claims.sessionId, hashToken(refreshToken), config.REFRESH_TOKEN_TTL_SECONDS);
    return {
      accessToken: await accessTokens.issue(claims),
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: accessTokens.ttlSeconds,
    };
  }

  return {
    async register(
      input: { name: string; email: string; password: string; birthDate?: string | null | undefined },
      context: RequestContext,
    ): Promise<UserRow> {
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

    async login(input: { email: string; password: string }, context: RequestContext): Promise<TokenPairResult> {
      const email = normalizeEmail(input.email);
      await limit('login', email, context);
      const user = await findUserByEmail(db, email);
      // verifyPassword spends the same time on an unknown account, so the answer tells nothing.
      const valid = await verifyPassword(user?.passwordHash ?? null, input.password);
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

    async refresh(refreshToken: string, context: RequestContext): Promise<TokenPairResult> {
      const tokenHash = hashToken(refreshToken);
      type Outcome = { kind: 'ok'; pair: TokenPairResult } | { kind: 'reused' } | { kind: 'invalid' };
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
            return { kind: 'reused' };
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
      if (outcome.kind === 'reused') throw errors.refreshTokenReused();
      if (outcome.kind === 'invalid') throw errors.invalidRefreshToken();
      return outcome.pair;
    },

    async logout(principal: AccessClaims, context: RequestContext): Promise<void> {
      await db.transaction(async (tx) => {
        await revokeSession(tx, principal.sessionId, 'logout');
        await insertAuditEntry(tx, {
          action: 'auth.logout',
          userId: principal.userId,
          target: { type: 'session', id: principal.sessionId },
          context,
        });
      });
    },

    /** A single-use ticket that opens one event stream for this session; see stream-tickets.sql. */
    async streamTicket(principal: AccessClaims): Promise<{ ticket: string; expiresIn: number }> {
      const ticket = newOpaqueToken();
      await insertStreamTicket(database, {
        ticketHash: hashToken(ticket),
        sessionId: principal.sessionId,
        ttlSeconds: STREAM_TICKET_TTL_SECONDS,
      });
      return { ticket, expiresIn: STREAM_TICKET_TTL_SECONDS };
    },

    /** Answers the same for known and unknown e-mails; only a known one gets a link. */
    async forgotPassword(rawEmail: string, context: RequestContext): Promise<void> {
      const email = normalizeEmail(rawEmail);
      await limit('forgot-password', email, context);
      const user = await findUserByEmail(db, email);
      await db.transaction(async (tx) => {
        await insertAuditEntry(tx, {
          action: 'auth.password_reset_requested',
          userId: user?.id ?? null,
          metadata: user ? {} : { email, reason: 'unknown_email' },
          context,
        });
        if (user) await enqueueJob(tx, passwordResetEmailJob, { userId: user.id });
      });
      if (user) queue.wake();
    },

    async resetPassword(input: { token: string; password: string }, context: RequestContext): Promise<void> {
      // Hashing costs tens of milliseconds of CPU: a bogus token must not get that far.
      if (!(await isLiveOneTimeToken(db, hashToken(input.token), 'password_reset'))) {
        throw errors.invalidOneTimeToken();
      }
      const passwordHash = await hashPassword(input.password);
      await db.transaction(async (tx) => {
        // The token is spent before the password changes, in the same transaction: of two racing
        // requests with one token, only one can get past this line.
        const userId = await consumeOneTimeToken(tx, hashToken(input.token), 'password_reset');
        if (!userId) throw errors.invalidOneTimeToken();
        await updatePasswordHash(tx, userId, passwordHash);
        await spendAllOneTimeTokens(tx, userId, 'password_reset');
        const ended = await revokeUserSessions(tx, userId, 'password_reset');
        await insertAuditEntry(tx, {
          action: 'auth.password_reset',
          userId,
          target: { type: 'user', id: userId },
          metadata: { sessionsEnded: ended },
          context,
        });
      });
    },

    async verifyEmail(token: string, context: RequestContext): Promise<void> {
      await db.transaction(async (tx) => {
        const userId = await consumeOneTimeToken(tx, hashToken(token), 'email_verification');
        if (!userId) throw errors.invalidOneTimeToken();
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
      principal: AccessClaims,
      input: { currentPassword: string; newPassword: string },
      context: RequestContext,
    ): Promise<void> {
      const user = await findUserById(db, principal.userId);
      if (!user) throw errors.unauthenticated('The account no longer exists.');
      if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
        throw errors.validation('The current password is wrong.', [
          { field: 'currentPassword', message: 'is not the current password' },
        ]);
      }
      const passwordHash = await hashPassword(input.newPassword);
      await db.transaction(async (tx) => {
        await updatePasswordHash(tx, user.id, passwordHash);
        const ended = await revokeUserSessions(tx, user.id, 'password_changed', principal.sessionId);
        await insertAuditEntry(tx, {
          action: 'auth.password_changed',
          userId: user.id,
          target: { type: 'user', id: user.id },
          metadata: { sessionsEnded: ended },
          context,
        });
      });
    },
  };
}
