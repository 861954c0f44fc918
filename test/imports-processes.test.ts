import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../src/infra/db/database.js';
import { signInAdmin } from './helpers/admin.js';
import { testEnvironment } from './helpers/environment.js';
import { useHarness } from './helpers/harness.js';
import { allCreated, generateCsv, upload, waitForImport } from './helpers/imports.js';
import { type ServiceProcess, startProcess, waitFor } from './helpers/processes.js';

describe.runIf(testEnvironment.databaseUrl && testEnvironment.redisUrl)('imports in worker processes', () => {
  // The harness is only the API here: the jobs run in real worker processes.
  const block = useHarness({}, { workers: false });
  let token: string;
  const workers: ServiceProcess[] = [];

  beforeAll(async () => {
    token = (await signInAdmin(block.harness)).accessToken;
  });
  afterAll(async () => {
    for (const worker of workers) await worker.stop('SIGKILL');
  });

  const processed = async (id: string) => {
    const [row] = await queryRows<{ processed: number }>(
      block.harness.runtime.database.db,
      sql`select processed_rows as processed from user_imports where id = ${id}`,
    );
    return row?.processed ?? 0;
  };

  // BullMQ's stalled check alone waits about 10 s before another worker takes the job over.
  it('finishes on another worker, with exact counts, an import whose worker was killed mid-file', {
    timeout: 60_000,
  }, async () => {
    const rows = 150_000;
    const first = await startProcess('worker', { ...block.harness.env, WORKER_CONCURRENCY: '2' });
    workers.push(first);
    const response = await upload(block.harness.app, token, generateCsv(rows));
    expect(response.statusCode, response.body).toBe(202);
    const { id } = response.json();

    await waitFor(
      async () => (await processed(id)) > 0,
      60_000,
      () => `the import never started:\n${first.output()}`,
    );
    await first.stop('SIGKILL');
    const atKill = await processed(id);
    expect(atKill).toBeLessThan(rows);

    workers.push(await startProcess('worker', block.harness.env));
    const result = await waitForImport(block.harness.app, token, id, 120_000);
    expect(result).toMatchObject(allCreated(rows));
    const [users] = await queryRows<{ n: number }>(
      block.harness.runtime.database.db,
      sql`select count(*)::int as n from users where email like 'user%@example.com'`,
    );
    expect(users?.n).toBe(rows);
  });

  it('runs two imports at once on two worker processes, each with exact counts', async () => {
    workers.push(await startProcess('worker', block.harness.env));
    const uploads = await Promise.all([
      upload(block.harness.app, token, generateCsv(40_000, 'left')),
      upload(block.harness.app, token, `${generateCsv(30_000, 'right')}broken line without e-mail\n`),
    ]);
    const [left, right] = await Promise.all(
      uploads.map((response) => waitForImport(block.harness.app, token, response.json().id, 120_000)),
    );
    expect(left).toMatchObject({ status: 'completed', createdRows: 40_000, invalidRows: 0 });
    expect(right).toMatchObject({ status: 'completed', createdRows: 30_000, invalidRows: 1 });
    expect(right?.errors[0]?.line).toBe(30_002);
  });
});
