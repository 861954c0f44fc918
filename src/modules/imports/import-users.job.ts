import { Transform } from 'node:stream';
import type { Registry } from 'prom-client';
import type { Database } from '../../infra/db/database.js';
import type { ImportError } from '../../infra/db/schema.js';
import type { EventBus } from '../../infra/events/event-bus.js';
import type { Logger } from '../../infra/logger.js';
import type { ProgressStore } from '../../infra/progress/progress-store.js';
import { defineJob, type JobHandler } from '../../infra/queue/queue.js';
import type { UploadStorage } from '../../infra/storage/upload-storage.js';
import { insertAuditEntry } from '../audit/audit.sql.js';
import { NO_REQUEST } from '../audit/audit-origin.js';
import { BatchRows } from './batch-rows.js';
import { type CsvRecord, detectDelimiter, detectEncoding, readFirstLine, readRecords } from './csv-reader.js';
import { mapColumns, validateRow } from './import-rows.js';
import { announce, isFinished, presentImport } from './import-status.js';
import { importRowsCounter } from './imports.metrics.js';
import {
  type Batch,
  CheckpointMovedError,
  commitBatch,
  findImport,
  finishImport,
  MAX_STORED_ERRORS,
  markProcessing,
} from './imports.sql.js';
import { LineTooLongError } from './line-length.js';

export const importUsersJob = defineJob<{ importId: string }>('users.import');

/** What an import job runs with. */
export interface ImportJobDeps {
  readonly database: Database;
  readonly storage: UploadStorage;
  readonly progress: ProgressStore;
  readonly events: EventBus;
  readonly logger: Logger;
  readonly metrics: Registry;
}

/** A batch while it is read: its rows are in a `BatchRows`. */
type Pending = Omit<Batch, 'rows'>;

/**
 * A batch is committed every this many records, or sooner (see `due`): 1% of the file comes first
 * below two million rows. Each batch costs a handful of round trips (lock, insert, checkpoint,
 * commit, progress), and a busy machine makes each one slow: fewer, bigger batches.
 */
const BATCH_RECORDS = 20_000;
const BATCH_MAX_MS = 1000;

type Ending = { status: 'completed' } | { status: 'failed'; reason: string };

/**
 * Ends the import once, audits how (with no user: a job did it) and tells the subscribers. The
 * upload goes: what errors.csv serves is in the database, and the file holds personal data.
 */
async function finish(deps: ImportJobDeps, id: string, outcome: Ending): Promise<void> {
  const ended = await deps.database.db.transaction(async (tx) => {
    const row = await finishImport(tx, id, outcome);
    if (!row) return undefined;
    await insertAuditEntry(tx, {
      action: outcome.status === 'completed' ? 'import.completed' : 'import.failed',
      userId: null,
      target: { type: 'import', id },
      metadata:
        outcome.status === 'failed'
          ? { reason: outcome.reason }
          : {
              processedRows: row.processedRows,
              createdRows: row.createdRows,
              duplicateRows: row.duplicateRows,
              invalidRows: row.invalidRows,
            },
      context: NO_REQUEST,
    });
    return row;
  });
  if (!ended) return;
  await announce(presentImport(ended), deps.progress, deps.events);
  await deps.storage.remove(ended.storageKey).catch((error: unknown) => {
    deps.logger.warn(
      { importId: id, reason: (error as Error).message },
      'the upload of an ended import was not deleted',
    );
  });
}

/**
 * When the import's job is given up, the import ends `failed`: it never stays `processing`. What
 * went wrong is in the audit log's job.failed entry, for an admin; the import says only that.
 */
export function importGivenUp(deps: ImportJobDeps) {
  return ({ importId }: { importId: string }) =>
    finish(deps, importId, { status: 'failed', reason: 'The import failed again and again and was given up.' });
}

/**
 * Imports one uploaded file, resuming from the last committed checkpoint. Safe to run twice or to
 * resume on another worker: each batch commits its users with the checkpoint, and a worker whose
 * checkpoint was moved by another one stops.
 */
export function importUsersHandler(deps: ImportJobDeps): JobHandler<{ importId: string }> {
  const { storage, progress, events, logger } = deps;
  const { db } = deps.database;
  const fail = (id: string, reason: string) => finish(deps, id, { status: 'failed', reason });
  const rowsCommitted = importRowsCounter(deps.metrics);

  return async ({ importId }) => {
    const record = await findImport(db, importId);
    if (!record || isFinished(record.status)) return;
    await markProcessing(db, importId);

    let size: number;
    try {
      size = await storage.size(record.storageKey);
    } catch (error) {
      const missing = (error as { code?: unknown }).code === 'ENOENT';
      logger.warn(
        { importId, storageKey: record.storageKey, reason: (error as Error).message },
        missing ? 'the upload of an import is missing' : 'the upload of an import could not be read; retrying',
      );
      // Retrying cannot bring a missing file back: the import fails now. A storage that did not
      // answer (the database away for a moment) may answer the next try.
      if (!missing) throw error;
      return fail(importId, 'The uploaded file could not be read.');
    }
    const encoding = await detectEncoding(storage.open(record.storageKey));
    const delimiter = detectDelimiter(await readFirstLine(storage.open(record.storageKey), encoding));

    const file = storage.open(record.storageKey);
    const source = file.pipe(countBytes());
    file.on('error', (error) => source.destroy(error));
    const records = readRecords(source, encoding, delimiter);
    // Pages are never empty: the first one opens with the header.
    let opening: IteratorResult<CsvRecord[]>;
    try {
      opening = await records.next();
    } catch (error) {
      if (error instanceof LineTooLongError) return fail(importId, error.message);
      throw error;
    }
    const header = opening.done ? undefined : opening.value[0];
    if (header?.kind !== 'row') {
      source.destroy();
      return fail(importId, header ? 'The header line could not be read.' : 'The file is empty.');
    }
    const mapped = mapColumns(header.values);
    if ('error' in mapped) {
      source.destroy();
      return fail(importId, mapped.error);
    }

    const today = new Date().toISOString().slice(0, 10);
    const counts = { ...record };
    const storedErrors: ImportError[] = [...record.errors];
    let skip = record.processedRows;
    // The rows of the batch being read; a batch handed off to commit carries them as columns.
    const rows = new BatchRows();
    let batch: Pending = { from: record.processedRows, records: 0, errors: [] };
    let lastHandOff = { at: Date.now(), bytes: source.bytes };

    let announced = Promise.resolve();
    const commit = async (done: Batch, bytes: number) => {
      const { created, duplicates } = await commitBatch(db, importId, done);
      rowsCommitted.inc({ outcome: 'created' }, created);
      rowsCommitted.inc({ outcome: 'duplicate' }, duplicates);
      rowsCommitted.inc({ outcome: 'invalid' }, done.errors.length);
      counts.processedRows += done.records;
      counts.createdRows += created;
      counts.duplicateRows += duplicates;
      counts.invalidRows += done.errors.length;
      storedErrors.push(...done.errors.slice(0, Math.max(0, MAX_STORED_ERRORS - storedErrors.length)));
      const percent = Math.min(99, Math.floor((bytes / Math.max(size, 1)) * 100));
      const status = presentImport(
        { ...counts, status: 'processing', errors: storedErrors, startedAt: counts.startedAt ?? new Date() },
        percent,
      );
      // In order, but beside the next commit rather than before it: the live view is best effort
      // (it never throws), and its round trips to Redis would otherwise hold up the database.
      announced = announced.then(() => announce(status, progress, events));
    };
    // One batch commits while the next is read: the parser and the database work at once. Never
    // more than one in flight, so batches commit in order and memory holds two at most.
    let inFlight: Promise<void> | undefined;
    const handOff = async () => {
      await inFlight;
      const done = { ...batch, rows: rows.take() };
      inFlight = commit(done, source.bytes);
      // Seen when awaited (next hand-off or the end); until then it must not count as unhandled.
      inFlight.catch(() => {});
      lastHandOff = { at: Date.now(), bytes: source.bytes };
      batch = { from: done.from + done.records, records: 0, errors: [] };
    };
    // Often enough for a live bar (every 1% of the file or every second), rarely enough to batch.
    const due = () =>
      batch.records >= BATCH_RECORDS ||
      source.bytes - lastHandOff.bytes >= size / 100 ||
      Date.now() - lastHandOff.at >= BATCH_MAX_MS;

    const take = async (page: CsvRecord[], from: number) => {
      for (let index = from; index < page.length; index += 1) {
        // Records before the checkpoint were committed by an earlier run.
        if (skip > 0) {
          skip -= 1;
          continue;
        }
        addRecord(batch, rows, page[index] as CsvRecord, mapped.columns, today);
        if (due()) await handOff();
      }
    };

    try {
      await take(opening.value as CsvRecord[], 1);
      for await (const page of records) await take(page, 0);
      if (batch.records > 0) await handOff();
      await inFlight;
      // The last progress goes out before the end is announced, never after it.
      await announced;
    } catch (error) {
      source.destroy();
      // A commit may still be running: the job ends after it, not beside it.
      await inFlight?.catch(() => {});
      await announced;
      if (error instanceof CheckpointMovedError) {
        logger.warn({ importId }, 'another worker is running this import; stopping');
        return;
      }
      if (error instanceof LineTooLongError) return fail(importId, error.message);
      throw error;
    }

    await finish(deps, importId, { status: 'completed' });
  };
}

/** Passes bytes through and counts them: how far into the file the parser has read. */
function countBytes(): Transform & { bytes: number } {
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      counter.bytes += chunk.length;
      callback(null, chunk);
    },
  }) as Transform & { bytes: number };
  counter.bytes = 0;
  return counter;
}

/** Sorts one record into the batch: a row to insert (a duplicate is found by the insert) or an error. */
function addRecord(
  batch: Pending,
  rows: BatchRows,
  item: CsvRecord,
  columns: Parameters<typeof validateRow>[1],
  today: string,
): void {
  batch.records += 1;
  if (item.kind === 'unparsable') {
    batch.errors.push({ line: item.line, message: item.message, row: item.raw.slice(0, 1000) });
    return;
  }
  const result = validateRow(item.values, columns, today);
  if ('error' in result) {
    batch.errors.push({ line: item.line, message: result.error, row: item.values.join(',').slice(0, 1000) });
    return;
  }
  rows.add(result);
}
