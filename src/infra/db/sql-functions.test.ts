import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database, queryRows } from './database.js';

const SOURCE = new URL('../../modules/tokens/functions/lease_waiter_grace.sql', import.meta.url);

describe('SQL function sources', () => {
  let dir: string;
  let database: Database;
  const grace = async () =>
    (await queryRows<{ grace: string }>(database.db, sql`select lease_waiter_grace()::text as grace`))[0]?.grace;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tokenpool-functions-'));
    database = await createDatabase({ dataDir: dir });
    await database.migrate();
  }, 60_000);
  afterAll(async () => {
    await database?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('are applied by migrate, and applied again when the database runs another text than the file', async () => {
    expect(await readFile(SOURCE, 'utf8')).toContain("interval '10 seconds'");
    expect(await grace()).toBe('00:00:10');
    // A database whose function is older than its source, as after an upgrade to a changed file.
    await database.db.execute(
      sql`create or replace function lease_waiter_grace() returns interval language sql immutable as $$ select interval '99 seconds' $$`,
    );
    await database.db.execute(
      sql`update sql_function_sources set sha256 = 'older' where file = 'tokens/lease_waiter_grace.sql'`,
    );
    expect(await database.migrate()).toBe(0);
    expect(await grace()).toBe('00:00:10');
  });

  it('are not applied again while their text is the one the database runs', async () => {
    const before = await queryRows<{ file: string; appliedAt: string }>(
      database.db,
      sql`select file, applied_at::text as "appliedAt" from sql_function_sources order by file`,
    );
    expect(before.map((row) => row.file)).toContain('tokens/lease_one.sql');
    expect(before.map((row) => row.file)).toContain('webhooks/webhooks_enqueue_deliveries.sql');
    await database.migrate();
    expect(
      await queryRows(
        database.db,
        sql`select file, applied_at::text as "appliedAt" from sql_function_sources order by file`,
      ),
    ).toEqual(before);
  });
});
