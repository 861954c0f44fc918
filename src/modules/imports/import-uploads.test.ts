import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { useHarness } from '../../../test/helpers/harness.js';
import { importFile, upload } from '../../../test/helpers/imports.js';
import { queryRows } from '../../infra/db/database.js';

const file = useHarness({ MAX_UPLOAD_BYTES: String(4 * 1024 * 1024) });
let admin: { accessToken: string };

beforeAll(async () => {
  admin = await signInAdmin(file.harness);
});

/**
 * The uploads left in storage (rows with PostgreSQL, files under DATA_DIR embedded), once none is
 * left or 2 s have passed: an upload goes just after the import's end is committed, and so visible.
 */
async function uploads(): Promise<string[]> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const left = await uploadsInStorage();
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function uploadsInStorage(): Promise<string[]> {
  const { config, runtime } = file.harness;
  if (config.UPLOAD_STORAGE === 'database') {
    const rows = await queryRows<{ key: string }>(
      runtime.database.db,
      sql`select key from uploads union select key from upload_chunks`,
    );
    return rows.map((row) => row.key);
  }
  // A refused upload would be left as `.<key>.partial`.
  return readdir(join(config.DATA_DIR, 'uploads')).catch(() => []);
}

describe('an uploaded file', () => {
  it('is deleted when its import completes, and errors.csv still serves the bad rows', async () => {
    const csv = ['name,email', 'Ada,ada-upload@example.com', 'Bad,not-an-email', ''].join('\n');
    const done = await importFile(file.harness.app, admin.accessToken, csv);
    expect(done).toMatchObject({ status: 'completed', createdRows: 1, invalidRows: 1 });
    expect(await uploads()).toEqual([]);
    const errors = await file.api.get(`/users/imports/${done.id}/errors.csv`, admin.accessToken);
    expect(errors.statusCode).toBe(200);
    expect(errors.body).toContain('not-an-email');
  });

  it('is deleted when its import fails', async () => {
    const done = await importFile(file.harness.app, admin.accessToken, 'name,phone\nAda,123\n');
    expect(done.status).toBe('failed');
    expect(await uploads()).toEqual([]);
  });

  it('leaves nothing in storage when it is refused midway, past its first megabyte', async () => {
    const rows = Array.from({ length: 40_000 }, (_, n) => `User ${n},refused-${n}@example.com`);
    const response = await upload(file.harness.app, admin.accessToken, `name,email\n${rows.join('\n')}\n\0\n`);
    expect(response.statusCode, response.body).toBe(415);
    expect(await uploadsInStorage()).toEqual([]);
  });
});

describe('a line longer than any row of users', () => {
  it('fails the import with a reason naming the line, instead of being held whole in memory', async () => {
    const csv = `name,email\nAda,ada-long@example.com\n${'x'.repeat(3 * 1024 * 1024)}\nBob,bob-long@example.com\n`;
    const done = await importFile(file.harness.app, admin.accessToken, csv);
    expect(done.status).toBe('failed');
    expect(done.failureReason ?? '').toMatch(/^Line 3 is longer than 100000 characters/);
  });
});
