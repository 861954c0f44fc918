import { and, count, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../infra/db/database.js';
import { webhookDeliveries, webhookEndpoints } from '../../infra/db/schema.js';

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

const live = isNull(webhookEndpoints.deletedAt);

// Any constant works: it only has to be the same in every process that registers endpoints.
const REGISTRY_LOCK_ID = 7_405_122_914;

/**
 * lockEndpointRegistry: registrations take turns until their transaction ends, so a count of live
 * endpoints read after this stays true until the insert commits.
 */
export async function lockEndpointRegistry(executor: Executor): Promise<void> {
  await executor.execute(sql`select pg_advisory_xact_lock(${REGISTRY_LOCK_ID})`);
}

export async function insertEndpoint(
  executor: Executor,
  values: { url: string; events: string[]; description: string | null; secret: string; createdBy: string },
): Promise<EndpointRow> {
  const [row] = await executor.insert(webhookEndpoints).values(values).returning();
  if (!row) throw new Error('insert into webhook_endpoints returned no row');
  return row;
}

export async function listEndpoints(executor: Executor, limit: number, offset: number): Promise<EndpointRow[]> {
  return executor
    .select()
    .from(webhookEndpoints)
    .where(live)
    .orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id))
    .limit(limit)
    .offset(offset);
}

export async function countEndpoints(executor: Executor): Promise<number> {
  const [row] = await executor.select({ total: count() }).from(webhookEndpoints).where(live);
  return row?.total ?? 0;
}

export async function findEndpoint(executor: Executor, id: string): Promise<EndpointRow | undefined> {
  const [row] = await executor
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, id), live));
  return row;
}

/** Marks a live endpoint deleted (see the table's comment); answers whether there was one. */
export async function deleteEndpoint(executor: Executor, id: string): Promise<boolean> {
  const rows = await executor
    .update(webhookEndpoints)
    .set({ deletedAt: sql`now()` })
    .where(and(eq(webhookEndpoints.id, id), live))
    .returning({ id: webhookEndpoints.id });
  return rows.length > 0;
}

export async function listDeliveries(
  executor: Executor,
  endpointId: string,
  limit: number,
  offset: number,
): Promise<DeliveryRow[]> {
  return executor
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.endpointId, endpointId))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(limit)
    .offset(offset);
}

export async function countDeliveries(executor: Executor, endpointId: string): Promise<number> {
  const [row] = await executor
    .select({ total: count() })
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.endpointId, endpointId));
  return row?.total ?? 0;
}

/** A delivery with what sending it needs from its endpoint. */
export interface DeliveryToSend {
  delivery: DeliveryRow;
  endpoint: Pick<EndpointRow, 'url' | 'secret' | 'deletedAt'>;
}

export async function findDeliveryToSend(executor: Executor, id: string): Promise<DeliveryToSend | undefined> {
  const [row] = await executor
    .select({
      delivery: webhookDeliveries,
      endpoint: { url: webhookEndpoints.url, secret: webhookEndpoints.secret, deletedAt: webhookEndpoints.deletedAt },
    })
    .from(webhookDeliveries)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(eq(webhookDeliveries.id, id));
  return row;
}

export interface Attempt {
  /** The HTTP status answered, or null when none came (refused, timed out, unreachable). */
  status: number | null;
  /** Why it failed; null when it was delivered. */
  error: string | null;
}

/**
 * recordAttempt: counts one attempt and keeps its outcome; a success marks the delivery delivered.
 * Only a pending delivery changes: one already settled stays as it was.
 */
export async function recordAttempt(executor: Executor, id: string, attempt: Attempt): Promise<void> {
  const delivered = attempt.error === null;
  await executor
    .update(webhookDeliveries)
    .set({
      attempts: sql`${webhookDeliveries.attempts} + 1`,
      lastStatus: attempt.status,
      lastError: attempt.error,
      ...(delivered ? { status: 'delivered' as const, deliveredAt: sql`now()` } : {}),
    })
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.status, 'pending')));
}

/** failDelivery: a pending delivery given up; its last error stays, or becomes `reason` if it had none. */
export async function failDelivery(executor: Executor, id: string, reason: string): Promise<void> {
  await executor
    .update(webhookDeliveries)
    .set({ status: 'failed', lastError: sql`coalesce(${webhookDeliveries.lastError}, ${reason})` })
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.status, 'pending')));
}
