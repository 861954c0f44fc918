import { sql } from 'drizzle-orm';

// Timestamps leave the database as ISO-8601 UTC text with their microseconds, which JavaScript
// dates would drop.
export const isoText = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
export const iso = (column: string) => sql.raw(isoText(column));
