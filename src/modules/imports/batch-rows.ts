import { ArrayLiteralWriter } from '../../infra/db/array-literal-writer.js';
import type { ImportRow } from './import-rows.js';
import { uuidV7Source } from './uuid-v7.js';

/**
 * A batch's valid rows, in file order, one array literal (UTF-8 bytes) per column: what
 * `commitBatch` inserts. Valid until the next batch but one is taken.
 */
export interface BatchColumns {
  count: number;
  ids: Buffer;
  names: Buffer;
  emails: Buffer;
  birthDates: Buffer;
}

// Time-ordered keys for imported users, so their inserts append to the primary key's index; every
// other insert keeps the column's random default.
const newUserId = uuidV7Source();

/** Collects valid rows column by column as they are read (see `ArrayLiteralWriter` for why). */
export class BatchRows {
  private count = 0;
  private readonly ids = new ArrayLiteralWriter();
  private readonly names = new ArrayLiteralWriter();
  private readonly emails = new ArrayLiteralWriter();
  private readonly birthDates = new ArrayLiteralWriter();

  add(row: ImportRow): void {
    this.count += 1;
    this.ids.push(newUserId());
    this.names.push(row.name);
    this.emails.push(row.email);
    this.birthDates.push(row.birthDate);
  }

  /** The rows added since the last take (see `ArrayLiteralWriter.take` for how long they stay valid). */
  take(): BatchColumns {
    const columns = {
      count: this.count,
      ids: this.ids.take(),
      names: this.names.take(),
      emails: this.emails.take(),
      birthDates: this.birthDates.take(),
    };
    this.count = 0;
    return columns;
  }
}
