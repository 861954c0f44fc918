import { type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';

/**
 * A timestamp as ISO-8601 UTC text with its microseconds: JavaScript dates would drop them, and
 * the pool's order and expiry boundaries live at that precision.
 */
export function isoTimestamp(value: AnyPgColumn | SQL): SQL<string | null> {
  return sql<string | null>`to_char(${value} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}
