import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../infra/db/database.js';
import { oneTimeTokens } from '../../infra/db/schema.js';

export type OneTimePurpose = 'password_reset' | 'email_verification';

export async function insertOneTimeToken(
  executor: Executor,
  values: { userId: string; purpose: OneTimePurpose; tokenHash: string; ttlSeconds: number },
): Promise<void> {
  await executor.insert(oneTimeTokens).values({
    userId: values.userId,
    purpose: values.purpose,
    tokenHash: values.tokenHash,
    expiresAt: sql`now() + make_interval(secs => ${values.ttlSeconds})`,
  });
}

/** A token of this purpose, unused and unexpired. */
const live = (tokenHash: string, purpose: OneTimePurpose) =>
  and(
    eq(oneTimeTokens.tokenHash, tokenHash),
    eq(oneTimeTokens.purpose, purpose),
    isNull(oneTimeTokens.usedAt),
    gt(oneTimeTokens.expiresAt, sql`now()`),
  );

/** Whether a token could be spent now; it decides nothing (see consumeOneTimeToken). */
export async function isLiveOneTimeToken(executor: Executor, tokenHash: string, purpose: OneTimePurpose) {
  const rows = await executor
    .select({ userId: oneTimeTokens.userId })
    .from(oneTimeTokens)
    .where(live(tokenHash, purpose));
  return rows.length > 0;
}

/**
 * Spends a token and returns its user, in one conditional UPDATE: of two requests racing with the
 * same token, exactly one gets the user back.
 */
export async function consumeOneTimeToken(
  executor: Executor,
  tokenHash: string,
  purpose: OneTimePurpose,
): Promise<string | undefined> {
  const [row] = await executor
    .update(oneTimeTokens)
    .set({ usedAt: sql`now()` })
    .where(live(tokenHash, purpose))
    .returning({ userId: oneTimeTokens.userId });
  return row?.userId;
}

/** Spends every outstanding token of a purpose, e.g. the other reset links once a reset succeeded. */
export async function spendAllOneTimeTokens(
  executor: Executor,
  userId: string,
  purpose: OneTimePurpose,
): Promise<void> {
  await executor
    .update(oneTimeTokens)
    .set({ usedAt: sql`now()` })
    .where(and(eq(oneTimeTokens.userId, userId), eq(oneTimeTokens.purpose, purpose), isNull(oneTimeTokens.usedAt)));
}
