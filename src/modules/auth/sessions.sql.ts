import { and, eq, gt, inArray, isNull, ne, sql } from 'drizzle-orm';
import { type Database, type Executor, pgArray, type Statement } from '../../infra/db/database.js';
import { refreshTokens, sessions, users } from '../../infra/db/schema.js';
import type { Role } from '../../infra/http/principal.js';

export type RevokeReason = 'logout' | 'refresh_token_reused' | 'password_reset' | 'password_changed';

export async function insertSession(executor: Executor, userId: string): Promise<string> {
  const [row] = await executor.insert(sessions).values({ userId }).returning({ id: sessions.id });
  if (!row) throw new Error('insert into sessions returned no row');
  return row.id;
}

const FIND_LIVE_SESSIONS: Statement = {
  name: 'find_live_sessions',
  text: `select s.id as "sessionId", u.id as "userId", u.role from sessions s join users u on u.id = s.user_id
         where s.id = any($1::uuid[]) and s.revoked_at is null`,
};

export interface LiveSession {
  sessionId: string;
  userId: string;
  role: Role;
}

/**
 * Of the given sessions, those still open, with their user's current role. Runs for every
 * authenticated request (several at once share one call), so it is a prepared statement.
 */
export async function findLiveSessions(database: Database, sessionIds: string[]): Promise<LiveSession[]> {
  return database.query<LiveSession>(FIND_LIVE_SESSIONS, [pgArray(sessionIds)]);
}

/** Of the given sessions, the ones still open. */
export async function findLiveSessionIds(executor: Executor, sessionIds: string[]): Promise<string[]> {
  if (sessionIds.length === 0) return [];
  const rows = await executor
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(inArray(sessions.id, sessionIds), isNull(sessions.revokedAt)));
  return rows.map((row) => row.id);
}

export async function revokeSession(executor: Executor, sessionId: string, reason: RevokeReason): Promise<boolean> {
  const rows = await executor
    .update(sessions)
    .set({ revokedAt: sql`now()`, revokedReason: reason })
    .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return rows.length > 0;
}

/** Ends every open session of a user, but the one named in `except` when given. */
export async function revokeUserSessions(
  executor: Executor,
  userId: string,
  reason: RevokeReason,
  except?: string,
): Promise<number> {
  const rows = await executor
    .update(sessions)
    .set({ revokedAt: sql`now()`, revokedReason: reason })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), except ? ne(sessions.id, except) : undefined))
    .returning({ id: sessions.id });
  return rows.length;
}

export async function insertRefreshToken(
  executor: Executor,
  sessionId: string,
  tokenHash: string,
  ttlSeconds: number,
): Promise<void> {
  await executor.insert(refreshTokens).values({
    tokenHash,
    sessionId,
    expiresAt: sql`now() + make_interval(secs => ${ttlSeconds})`,
  });
}

/**
 * Marks a refresh token spent and returns its session's owner, if the token was unspent and
 * unexpired and its session is still open. The row lock taken by the UPDATE makes two concurrent
 * uses of one token line up: the second finds it spent.
 */
export async function spendRefreshToken(
  executor: Executor,
  tokenHash: string,
): Promise<{ sessionId: string; userId: string; role: Role } | undefined> {
  const [row] = await executor
    .update(refreshTokens)
    .set({ spentAt: sql`now()` })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(
        eq(refreshTokens.tokenHash, tokenHash),
        isNull(refreshTokens.spentAt),
        gt(refreshTokens.expiresAt, sql`now()`),
        eq(sessions.id, refreshTokens.sessionId),
        isNull(sessions.revokedAt),
      ),
    )
    .returning({ sessionId: refreshTokens.sessionId, userId: sessions.userId, role: users.role });
  return row;
}

export async function findRefreshToken(executor: Executor, tokenHash: string) {
  const [row] = await executor
    .select({ sessionId: refreshTokens.sessionId, userId: sessions.userId, spentAt: refreshTokens.spentAt })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .where(eq(refreshTokens.tokenHash, tokenHash));
  return row;
}
