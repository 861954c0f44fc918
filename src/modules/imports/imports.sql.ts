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
 * commitBatch: the users of one batch and the checkpoint after it, in one transaction, so a crash
 * leaves either both or neither. The import row is locked and its checkpoint compared first: if
 * another worker has moved it, this one stops instead of inserting the same rows twice. Users go
 * in with one statement (unnest), and an e-mail already there is a duplicate, not an error.
 */
export async function commitBatch(db: Db, id: string, batch: Batch): Promise<{ created: number; duplicates: number }> {
  return db.transaction(async (tx) => {
    const [locked] = await queryRows<{ processed: number }>(
      tx,
      sql`select processed_rows as processed from user_imports where id = ${id} for update`,
    );
    if (locked?.processed !== batch.from) {
      throw new CheckpointMovedError(`import ${id} is at row ${locked?.processed}, not ${batch.from}`);
    }
    let created = 0;
    if (batch.rows.count > 0) {
      const [inserted] = await queryRows<{ created: number }>(
        tx,
        sql`with inserted as (
              insert into users (id, name, email, birth_date)
              select * from unnest(convert_from(${batch.rows.ids}, 'UTF8')::uuid[],
                                   convert_from(${batch.rows.names}, 'UTF8')::text[],
                                   convert_from(${batch.rows.emails}, 'UTF8')::text[],
                                   convert_from(${batch.rows.birthDates}, 'UTF8')::date[])
              -- A repeat within the batch too: rows go in in file order, so the first of an e-mail wins.
              on conflict (email) do nothing
              returning 1)
            select count(*)::int as created from inserted`,
      );
      created = inserted?.created ?? 0;
    }
    const duplicates = batch.rows.count - created;
    await tx.execute(
      sql`update user_imports set
            processed_rows = processed_rows + ${batch.records},
            created_rows = created_rows + ${created},
            duplicate_rows = duplicate_rows + ${duplicates},
            invalid_rows = invalid_rows + ${batch.errors.length},
            errors = case when jsonb_array_length(errors) >= ${MAX_STORED_ERRORS} then errors
              else (select coalesce(jsonb_agg(e), '[]'::jsonb) from (
                select e from jsonb_array_elements(errors || ${JSON.stringify(batch.errors)}::jsonb) e
                limit ${MAX_STORED_ERRORS}) kept) end
          where id = ${id}`,
    );
    return { created, duplicates };
  });
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
