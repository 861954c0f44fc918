import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveJwtSecret } from '../secrets.js';
import { type Db, queryRows } from './database.js';
import * as schema from './schema.js';

const MIGRATIONS = new URL('../../../migrations', import.meta.url).pathname;
// The schema of the last release: every migration up to this one.
const LAST_RELEASE = '0011_lease_write_costs';

/** A copy of the migrations folder whose journal ends at `tag`, as an older release shipped it. */
async function migrationsThrough(tag: string, dir: string): Promise<string> {
  const folder = join(dir, 'migrations');
  await cp(MIGRATIONS, folder, { recursive: true });
  const journalPath = join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: Array<{ tag: string }> };
  const last = journal.entries.findIndex((entry) => entry.tag === tag);
  expect(last).toBeGreaterThanOrEqual(0);
  await writeFile(journalPath, JSON.stringify({ ...journal, entries: journal.entries.slice(0, last + 1) }));
  return folder;
}

describe(`an upgrade from the last release (${LAST_RELEASE})`, () => {
  let dir: string;
  let client: PGlite;
  let db: Db;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tokenpool-upgrade-'));
    client = await PGlite.create();
    db = drizzle({ client, schema }) as unknown as Db;
    await migrate(drizzle({ client }), { migrationsFolder: await migrationsThrough(LAST_RELEASE, dir) });
    // What the last release left: a job waiting for its relay, one relayed to Redis under its old id.
    await db.execute(
      sql`insert into jobs (kind, payload, status) values
            ('auth.welcome-email', '{"userId":"a"}', 'pending'), ('users.import', '{"importId":"b"}', 'relayed')`,
    );
    await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS });
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps every job, gives each a uid of its own, and relays again the ones relayed under the old ids', async () => {
    const jobs = await queryRows<{ kind: string; status: string; uid: string; queueId: string | null }>(
      db,
      sql`select kind, status, uid::text as uid, queue_id as "queueId" from jobs order by id`,
    );
    expect(jobs.map(({ kind, status, queueId }) => ({ kind, status, queueId }))).toEqual([
      { kind: 'auth.welcome-email', status: 'pending', queueId: null },
      { kind: 'users.import', status: 'pending', queueId: null },
    ]);
    expect(new Set(jobs.map((job) => job.uid)).size).toBe(2);
  });

  it('keeps the access-token key an earlier version made in DATA_DIR, for every process', async () => {
    const earlier = join(dir, 'earlier');
    await mkdir(earlier);
    await writeFile(join(earlier, 'jwt-secret'), 'the key an earlier version made\n');
    expect(await resolveJwtSecret(undefined, db, earlier)).toBe('the key an earlier version made');
    // A process with another data directory, or none of its own yet, reads the same key.
    expect(await resolveJwtSecret(undefined, db, join(dir, 'elsewhere'))).toBe('the key an earlier version made');
    expect(await resolveJwtSecret('configured', db, earlier)).toBe('configured');
  });
});
