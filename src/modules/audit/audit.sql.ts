import { and, count, desc, eq, type SQL } from 'drizzle-orm';
import type { Executor } from '../../infra/db/database.js';
import { auditLogs, users } from '../../infra/db/schema.js';
import type { AuditAction } from './audit.actions.js';
import type { AuditOrigin } from './audit-origin.js';

export interface AuditEntry {
  action: AuditAction;
  /** The actor; null for background jobs and anonymous attempts. */
  userId: string | null;
  target?: { type: string; id: string };
  /** Never secrets: no passwords, tokens or hashes. */
  metadata?: Record<string, unknown>;
  context: AuditOrigin;
}

/** Written inside the transaction of the change it records, so both commit or neither does. */
export async function insertAuditEntry(executor: Executor, entry: AuditEntry): Promise<void> {
  await executor.insert(auditLogs).values({
    action: entry.action,
    userId: entry.userId,
    targetType: entry.target?.type ?? null,
    targetId: entry.target?.id ?? null,
    ip: entry.context.ip,
    userAgent: entry.context.userAgent,
    requestId: entry.context.requestId,
    metadata: entry.metadata ?? {},
  });
}

export interface AuditFilter {
  action?: string | undefined;
  userId?: string | undefined;
}

function where(filter: AuditFilter): SQL | undefined {
  return and(
    filter.action ? eq(auditLogs.action, filter.action) : undefined,
    filter.userId ? eq(auditLogs.userId, filter.userId) : undefined,
  );
}

export async function listAuditEntries(executor: Executor, filter: AuditFilter, limit: number, offset: number) {
  return executor
    .select({ id: auditLogs.id, action: auditLogs.action, userId: auditLogs.userId, createdAt: auditLogs.createdAt })
    .from(auditLogs)
    .where(where(filter))
    .orderBy(desc(auditLogs.createdAt), desc(auditLogs.id))
    .limit(limit)
    .offset(offset);
}

export async function countAuditEntries(executor: Executor, filter: AuditFilter): Promise<number> {
  const [row] = await executor.select({ total: count() }).from(auditLogs).where(where(filter));
  return row?.total ?? 0;
}

export async function findAuditEntry(executor: Executor, id: string) {
  const [row] = await executor
    .select({
      entry: auditLogs,
      user: { id: users.id, name: users.name, email: users.email },
    })
    .from(auditLogs)
    .leftJoin(users, eq(users.id, auditLogs.userId))
    .where(eq(auditLogs.id, id));
  return row;
}
