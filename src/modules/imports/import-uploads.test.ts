import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { useHarness } from '../../../test/helpers/harness.js';
import { importFile } from '../../../test/helpers/imports.js';

const file = useHarness({ MAX_UPLOAD_BYTES: String(4 * 1024 * 1024) });
let admin: { accessToken: string };

beforeAll(async () => {
  admin = await signInAdmin(file.harness);
});

/**
 * The uploads left in DATA_DIR (the test harness keeps them on the file system), once none is left
 * or 2 s have passed: the file goes just after the import's end is committed, and so visible.
 */
async function uploads(): Promise<string[]> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const dir = join(file.harness.config.DATA_DIR, 'uploads');
    const left = (await readdir(dir).catch(() => [])).filter((name) => name.endsWith('.csv'));
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
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
});

describe('a line longer than any row of users', () => {
  it('fails the import with a reason naming the line, instead of being held whole in memory', async () => {
    const csv = `name,email\nAda,ada-long@example.com\n${'x'.repeat(3 * 1024 * 1024)}\nBob,bob-long@example.com\n`;
    const done = await importFile(file.harness.app, admin.accessToken, csv);
    expect(done.status).toBe('failed');
    expect(done.failureReason ?? '').toMatch(/^Line 3 is longer than 100000 characters/);
  });
});
