import { count, desc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../infra/db/database.js';
import { users } from '../../infra/db/schema.js';
import type { Role } from '../../infra/http/principal.js';

export type UserRow = typeof users.$inferSelect;

/** Inserts a user unless the e-mail is taken; `undefined` means taken. */
export async function insertUser(
  executor: Executor,
  values: { name: string; email: string; passwordHash: string | null; birthDate: string | null; role?: Role },
): Promise<UserRow | undefined> {
  const [row] = await executor.insert(users).values(values).onConflictDoNothing({ target: users.email }).returning();
  return row;
}

/** A service account: no e-mail and no password, so nobody can sign in as it; it uses API keys. */
export async function insertServiceAccount(executor: Executor, values: { name: string; role: Role }): Promise<UserRow> {
  const [row] = await executor
    .insert(users)
    .values({ ...values, kind: 'service', email: null, passwordHash: null })
    .returning();
  if (!row) throw new Error('insert into users returned no row');
  return row;
}

export async function findUserByEmail(executor: Executor, email: string): Promise<UserRow | undefined> {
  const [row] = await executor.select().from(users).where(eq(users.email, email));
  return row;
}

export async function findUserById(executor: Executor, id: string): Promise<UserRow | undefined> {
  const [row] = await executor.select().from(users).where(eq(users.id, id));
  return row;
}

export async function listUsers(executor: Executor, limit: number, offset: number): Promise<UserRow[]> {
  return executor.select().from(users).orderBy(desc(users.createdAt), desc(users.id)).limit(limit).offset(offset);
}

export async function countUsers(executor: Executor): Promise<number> {
  const [row] = await executor.select({ total: count() }).from(users);
  return row?.total ?? 0;
}

export async function countAdmins(executor: Executor): Promise<number> {
  const [row] = await executor.select({ total: count() }).from(users).where(eq(users.role, 'admin'));
  return row?.total ?? 0;
}

export async function updatePasswordHash(executor: Executor, id: string, passwordHash: string): Promise<void> {
  await executor.update(users).set({ passwordHash, updatedAt: sql`now()` }).where(eq(users.id, id));
}

export async function markEmailVerified(executor: Executor, id: string): Promise<void> {
  await executor
    .update(users)
    .set({ emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, now())`, updatedAt: sql`now()` })
    .where(eq(users.id, id));
}

export async function setRole(executor: Executor, id: string, role: Role): Promise<void> {
  await executor.update(users).set({ role, updatedAt: sql`now()` }).where(eq(users.id, id));
}

/** E-mails are stored trimmed and lower-cased: that is what makes them case-insensitive. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
