import { sql } from 'drizzle-orm';
import { queryRows } from '../../src/infra/db/database.js';
import type { Harness } from './harness.js';

/** Waits until the database clock has passed an instant. */
export async function waitPast(harness: Harness, instant: string): Promise<void> {
  for (;;) {
    const [row] = await queryRows<{ past: boolean }>(
      harness.runtime.database.db,
      sql`select clock_timestamp() >= ${instant}::timestamptz as past`,
    );
    if (row?.past) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
