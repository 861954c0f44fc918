import { sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Registry } from 'prom-client';
import { type Db, queryRows } from '../db/database.js';
import { readAtScrape } from './metrics.js';

/**
 * The rows of `status`'s table by status, read at each scrape. Every status the column allows is
 * present (0 when it has none): a series that vanishes is harder to alert on than one at 0.
 */
export function registerStatusGauge(
  registry: Registry,
  db: Db,
  config: { name: string; help: string },
  status: AnyPgColumn & { enumValues: readonly string[] },
): void {
  readAtScrape(registry, { ...config, labelNames: ['status'] }, async () => {
    const rows = await queryRows<{ status: string; count: number }>(
      db,
      sql`select ${status} as status, count(*)::int as count from ${status.table} group by 1`,
    );
    return status.enumValues.map((value) => ({
      labels: { status: value },
      value: rows.find((row) => row.status === value)?.count ?? 0,
    }));
  });
}
