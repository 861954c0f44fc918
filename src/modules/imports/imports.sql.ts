import { and, count, desc, eq, inArray, sql } from 'drizzle-orm';
import { type Db, type Executor, queryRows } from '../../infra/db/database.js';
import { type ImportError, userImports } from '../../infra/db/schema.js';
import type { BatchColumns } from './batch-rows.js';

export type ImportRecord = typeof userImports.$inferSelect;

/** How many bad rows an import keeps; beyond that only the count grows. */
export const MAX_STORED_ERRORS = 1000;

export async function insertImport(
  executor: Executor,
  values: { fileName: string; storageKey: string; sizeBytes: number; createdBy: string },
): Promise<ImportRecord> {
  const [row] = await executor.insert(userImports).values(values).returning();
  if (!row) throw new Error('insert into user_imports returned no row');
  return row;
}

export async function findImport(executor: Executor, id: string): Promise<ImportRecord | undefined> {
  const [row] = await executor.select().from(userImports).where(eq(userImports.id, id));
  return row;
}

export async function listImports(executor: Executor, limit: number, offset: number): Promise<ImportRecord[]> {
  return executor
    .select()
    .from(userImports)
    .orderBy(desc(userImports.createdAt), desc(userImports.id))
    .limit(limit)
    .offset(offset);
}

export async function countImports(executor: Executor): Promise<number> {
  const [row] = await executor.select({ total: count() }).from(userImports);
  return row?.total ?? 0;
}

export async function markProcessing(executor: Executor, id: string): Promise<void> {
  await executor
    .update(userImports)
    .set({ status: 'processing', startedAt: sql`coalesce(${userImports.startedAt}, now())` })
    .where(eq(userImports.id, id));
}

export interface Batch {
  /** `processed_rows` this batch starts from: the checkpoint it continues. */
  from: number;
  records: number;
  /** Valid rows to insert; one whose e-mail is already there, or came earlier, is a duplicate. */
  rows: BatchColumns;
  errors: ImportError[];
}

export class CheckpointMovedError extends Error {
  override name = 'CheckpointMovedError';
}

/**
 * commitBatch: the users of one batch and the checkpoint after it, in one statement, so one
 * transaction and one round trip: a crash leaves either both or neither. The import row is locked
 * (`locked`) before anything is written and its checkpoint compared: if another worker has moved
 * it (a worker that waited for the lock reads the row as that worker left it), nothing is written
 * and this one stops instead of inserting the same rows twice. Users go in with one insert
 * (unnest), and an e-mail already there is a duplicate, not an error.
 */
export async function commitBatch(db: Db, id: string, batch: Batch): Promise<{ created: number; duplicates: number }> {
  const { rows } = batch;
  const [result] = await queryRows<{ processed: number | null; created: number }>(
    db,
    sql`with locked as (
          select processed_rows from user_imports where id = ${id} for update),
        inserted as (
          insert into users (id, name, email, birth_date)
          select * from unnest(convert_from(${rows.ids}, 'UTF8')::uuid[],
                               convert_from(${rows.names}, 'UTF8')::text[],
                               convert_from(${rows.emails}, 'UTF8')::text[],
                               convert_from(${rows.birthDates}, 'UTF8')::date[])
          where (select processed_rows from locked) = ${batch.from}
          -- A repeat within the batch too: rows go in in file order, so the first of an e-mail wins.
          on conflict (email) do nothing
          returning 1),
        created as (select count(*)::int as n from inserted),
        checkpoint as (
          update user_imports set
            processed_rows = processed_rows + ${batch.records},
            created_rows = created_rows + (select n from created),
            duplicate_rows = duplicate_rows + ${rows.count} - (select n from created),
            invalid_rows = invalid_rows + ${batch.errors.length},
            errors = case when jsonb_array_length(errors) >= ${MAX_STORED_ERRORS} then errors
              else (select coalesce(jsonb_agg(e), '[]'::jsonb) from (
                select e from jsonb_array_elements(errors || ${JSON.stringify(batch.errors)}::jsonb) e
                limit ${MAX_STORED_ERRORS}) kept) end
          where id = ${id} and (select processed_rows from locked) = ${batch.from}
          returning 1)
        select (select processed_rows from locked) as processed, (select n from created) as created`,
  );
  if (result?.processed !== batch.from) {
    throw new CheckpointMovedError(`import ${id} is at row ${result?.processed}, not ${batch.from}`);
  }
  return { created: result.created, duplicates: rows.count - result.created };
}

export async function finishImport(
  executor: Executor,
  id: string,
  outcome: { status: 'completed' } | { status: 'failed'; reason: string },
): Promise<ImportRecord | undefined> {
  const [row] = await executor
    .update(userImports)
    .set({
      status: outcome.status,
      failureReason: outcome.status === 'failed' ? outcome.reason : null,
      totalRows: outcome.status === 'completed' ? sql`${userImports.processedRows}` : sql`${userImports.totalRows}`,
      finishedAt: sql`now()`,
      startedAt: sql`coalesce(${userImports.startedAt}, now())`,
    })
    // An import ends once: a job given up after another run finished it changes nothing.
    .where(and(eq(userImports.id, id), inArray(userImports.status, ['queued', 'processing'])))
    .returning();
  return row;
}
