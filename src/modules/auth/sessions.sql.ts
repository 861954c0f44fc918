import { and, eq, gt, isNull, ne, sql } from 'drizzle-orm';
import type { Executor } from '../../infra/db/database.js';
import { refreshTokens, sessions, users } from '../../infra/db/schema.js';
import type { Role } from './access-tokens.js';

export type RevokeReason = 'logout' | 'refresh_token_reused' | 'password_reset' | 'password_changed';

export async function insertSession(executor: Executor, userId: string): Promise<string> {
  const [row] = await executor.insert(sessions).values({ userId }).returning({ id: sessions.id });
  if (!row) throw new Error('insert into sessions returned no row');
  return row.id;
}

/** The session's user and current role, if the session is still open. Runs on every authenticated request. */
export async function findLiveSession(
  executor: Executor,
  sessionId: string,
): Promise<{ userId: string; role: Role } | undefined> {
  const [row] = await executor
    .select({ userId: users.id, role: users.role })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
  return row;
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
 * Marks a refresh token spent and returns its session, if it was unspent and unexpired. The row
 * lock taken by the UPDATE makes two concurrent uses of one token line up: the second finds it spent.
 */
export async function spendRefreshToken(executor: Executor, tokenHash: string): Promise<string | undefined> {
  const [row] = await executor
    .update(refreshTokens)
    .set({ spentAt: sql`now()` })
    .where(
      and(
        eq(refreshTokens.tokenHash, tokenHash),
        isNull(refreshTokens.spentAt),
        gt(refreshTokens.expiresAt, sql`now()`),
      ),
    )
    .returning({ sessionId: refreshTokens.sessionId });
  return row?.sessionId;
}

export async function findRefreshToken(executor: Executor, tokenHash: string) {
  const [row] = await executor
    .select({ sessionId: refreshTokens.sessionId, userId: sessions.userId, spentAt: refreshTokens.spentAt })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .where(eq(refreshTokens.tokenHash, tokenHash));
  return row;
}
