import { sql } from 'drizzle-orm';
import type { Registry } from 'prom-client';
import { type Db, queryRows } from '../../infra/db/database.js';
import { userImports } from '../../infra/db/schema.js';
import { counter, countsByStatus, readAtScrape } from '../../infra/metrics/metrics.js';

/** Imports by status, read from the database at each scrape. */
export function registerImportsGauge(registry: Registry, db: Db): void {
  readAtScrape(
    registry,
    { name: 'tokenpool_imports', help: 'Imports by status.', labelNames: ['status'] },
    async () => {
      const rows = await queryRows<{ status: string; count: number }>(
        db,
        sql`select status, count(*)::int as count from user_imports group by status`,
      );
      return countsByStatus(userImports.status.enumValues, rows);
    },
  );
}

/** Rows this process committed, by outcome; their rate is the import speed. */
export function importRowsCounter(registry: Registry) {
  return counter(registry, {
    name: 'tokenpool_import_rows_total',
    help: 'Imported rows committed, by outcome (created, duplicate, invalid).',
    labelNames: ['outcome'],
  });
}
