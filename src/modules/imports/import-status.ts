import type { Static } from 'typebox';
import type { EventBus } from '../../infra/events/event-bus.js';
import type { ProgressStore } from '../../infra/progress/progress-store.js';
import type { ImportStatusSchema } from './imports.schemas.js';
import type { ImportRecord } from './imports.sql.js';

/** An import as clients see it, typed from the schema that documents and serializes it. */
export type ImportStatus = Static<typeof ImportStatusSchema>;

export const importChannel = (id: string) => `imports:${id}`;

export function presentImport(record: ImportRecord, percent?: number): ImportStatus {
  return {
    id: record.id,
    status: record.status,
    fileName: record.fileName,
    totalRows: record.totalRows,
    processedRows: record.processedRows,
    createdRows: record.createdRows,
    duplicateRows: record.duplicateRows,
    invalidRows: record.invalidRows,
    percent: record.status === 'completed' ? 100 : (percent ?? 0),
    errors: record.errors.map(({ line, message }) => ({ line, message })),
    failureReason: record.failureReason,
    createdAt: record.createdAt.toISOString(),
    startedAt: record.startedAt?.toISOString() ?? null,
    finishedAt: record.finishedAt?.toISOString() ?? null,
  };
}

export function isFinished(status: ImportStatus['status']): boolean {
  return status === 'completed' || status === 'failed';
}

/** The freshest view: the live progress while it runs, the database once it has ended. */
export async function currentStatus(record: ImportRecord, progress: ProgressStore): Promise<ImportStatus> {
  if (isFinished(record.status)) return presentImport(record);
  return (await progress.get<ImportStatus>(record.id)) ?? presentImport(record);
}

/** Keeps the live view and tells every subscriber, in every process. */
export async function announce(status: ImportStatus, progress: ProgressStore, events: EventBus): Promise<void> {
  if (isFinished(status.status)) await progress.remove(status.id);
  else await progress.set(status.id, status);
  await events.publish(importChannel(status.id), status);
}
