import { sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Registry } from 'prom-client';
import { queryRows } from '../db/database.js';
import { type DatabaseGauges, readFromDatabase } from './metrics.js';

/**
 * The rows of `status`'s table by status, read at each scrape. Every status the column allows is
 * present (0 when it has none): a series that vanishes is harder to alert on than one at 0.
 */
export function registerStatusGauge(
  registry: Registry,
  gauges: DatabaseGauges,
  config: { name: string; help: string },
  status: AnyPgColumn & { enumValues: readonly string[] },
): void {
  readFromDatabase(registry, gauges, { ...config, labelNames: ['status'] }, async (db) => {
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
