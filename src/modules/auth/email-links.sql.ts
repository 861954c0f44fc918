import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../infra/db/database.js';
import { oneTimeTokens } from '../../infra/db/schema.js';

export type EmailLinkPurpose = 'password_reset' | 'email_verification';

export async function insertEmailLink(
  executor: Executor,
  values: { userId: string; purpose: EmailLinkPurpose; tokenHash: string; ttlSeconds: number },
): Promise<void> {
  await executor.insert(oneTimeTokens).values({
    userId: values.userId,
    purpose: values.purpose,
    tokenHash: values.tokenHash,
    expiresAt: sql`now() + make_interval(secs => ${values.ttlSeconds})`,
  });
}

/** A link of this purpose, unused and unexpired. */
const live = (tokenHash: string, purpose: EmailLinkPurpose) =>
  and(
    eq(oneTimeTokens.tokenHash, tokenHash),
    eq(oneTimeTokens.purpose, purpose),
    isNull(oneTimeTokens.usedAt),
    gt(oneTimeTokens.expiresAt, sql`now()`),
  );

/** Whether a link could be spent now; it decides nothing (see consumeEmailLink). */
export async function isLiveEmailLink(executor: Executor, tokenHash: string, purpose: EmailLinkPurpose) {
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
export async function consumeEmailLink(
  executor: Executor,
  tokenHash: string,
  purpose: EmailLinkPurpose,
): Promise<string | undefined> {
  const [row] = await executor
    .update(oneTimeTokens)
    .set({ usedAt: sql`now()` })
    .where(live(tokenHash, purpose))
    .returning({ userId: oneTimeTokens.userId });
  return row?.userId;
}

/** Spends every outstanding link of a purpose, e.g. the other reset links once a reset succeeded. */
export async function spendEmailLinks(executor: Executor, userId: string, purpose: EmailLinkPurpose): Promise<void> {
  await executor
    .update(oneTimeTokens)
    .set({ usedAt: sql`now()` })
    .where(and(eq(oneTimeTokens.userId, userId), eq(oneTimeTokens.purpose, purpose), isNull(oneTimeTokens.usedAt)));
}
