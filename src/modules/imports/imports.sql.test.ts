import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { useHarness } from '../../../test/helpers/harness.js';
import { queryRows } from '../../infra/db/database.js';
import { BatchRows } from './batch-rows.js';
import { type Batch, CheckpointMovedError, commitBatch, findImport, insertImport } from './imports.sql.js';

const file = useHarness({}, { workers: false });

/** Three valid rows and one bad one, from checkpoint `from`. */
function batch(from: number): Batch {
  const rows = new BatchRows();
  for (let i = 0; i < 3; i += 1) rows.add({ name: `Racer ${i}`, email: `racer${i}@example.com`, birthDate: null });
  return { from, records: 4, rows: rows.take(), errors: [{ line: 5, message: 'e-mail is empty', row: 'x,' }] };
}

describe('committing a batch', () => {
  it('commits once when two workers race from the same checkpoint; the other stops, having written nothing', async () => {
    const { db } = file.harness.runtime.database;
    const admin = await signInAdmin(file.harness);
    const [user] = await queryRows<{ id: string }>(db, sql`select id from users where email = ${admin.email}`);
    const createdBy = user?.id as string;
    const { id } = await insertImport(db, { fileName: 'race.csv', storageKey: 'race.csv', sizeBytes: 1, createdBy });
    const outcomes = await Promise.allSettled([commitBatch(db, id, batch(0)), commitBatch(db, id, batch(0))]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toEqual([
      { status: 'fulfilled', value: { created: 3, duplicates: 0 } },
    ]);
    expect(outcomes.find((outcome) => outcome.status === 'rejected')?.reason).toBeInstanceOf(CheckpointMovedError);
    expect(await findImport(db, id)).toMatchObject({ processedRows: 4, createdRows: 3, invalidRows: 1 });

    // The next batch goes on from the checkpoint: its e-mails are there already, so duplicates.
    expect(await commitBatch(db, id, batch(4))).toEqual({ created: 0, duplicates: 3 });
    expect(await findImport(db, id)).toMatchObject({
      processedRows: 8,
      createdRows: 3,
      duplicateRows: 3,
      invalidRows: 2,
    });
  });
});
