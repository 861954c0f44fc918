import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../src/infra/db/database.js';
import { signInAdmin } from './helpers/admin.js';
import { testEnvironment } from './helpers/environment.js';
import { useHarness } from './helpers/harness.js';
import { generateCsv } from './helpers/imports.js';
import { type ServiceProcess, startProcess, waitFor } from './helpers/processes.js';

// An `api` and a `worker` on two machines: each has a DATA_DIR of its own, and they share only
// PostgreSQL and Redis.
describe.runIf(testEnvironment.databaseUrl && testEnvironment.redisUrl)(
  'an api and a worker with no disk in common',
  () => {
    // The harness only makes the database and the admin: the service runs in the processes below.
    const block = useHarness({}, { workers: false });
    let token: string;
    const processes: ServiceProcess[] = [];
    const dirs: string[] = [];

    beforeAll(async () => {
      token = (await signInAdmin(block.harness)).accessToken;
    });
    afterEach(async () => {
      for (const process of processes.splice(0)) await process.stop();
    });
    afterAll(async () => {
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    });

    /** An api and a worker, each on a DATA_DIR of its own. */
    async function deploy(uploadStorage?: 'disk') {
      const on = async (command: 'api' | 'worker') => {
        const dir = await mkdtemp(join(tmpdir(), `tokenpool-${command}-`));
        dirs.push(dir);
        const env = { ...block.harness.env, DATA_DIR: dir, UPLOAD_STORAGE: uploadStorage, JOB_POLL_MS: '100' };
        const started = await startProcess(command, env);
        processes.push(started);
        return started;
      };
      return { api: await on('api'), worker: await on('worker') };
    }

    async function post(api: ServiceProcess, body: FormData | ReadableStream<Uint8Array>, contentType?: string) {
      const response = await fetch(`${api.url}/api/v1/users/imports`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, ...(contentType ? { 'content-type': contentType } : {}) },
        body,
        duplex: 'half',
      } as RequestInit);
      const answer = (await response.json()) as { id: string };
      expect(response.status, JSON.stringify(answer)).toBe(202);
      return answer.id;
    }

    async function ended(api: ServiceProcess, id: string, output: () => string) {
      let view: Record<string, unknown> = {};
      await waitFor(
        async () => {
          const response = await fetch(`${api.url}/api/v1/users/imports/${id}`, {
            headers: { authorization: `Bearer ${token}` },
          });
          view = (await response.json()) as Record<string, unknown>;
          return view.status === 'completed' || view.status === 'failed';
        },
        60_000,
        () => `the import stayed ${String(view.status)}:\n${output()}`,
      );
      return view;
    }

    /** The uploads still in the database, once none is left or 2 s have passed (removal follows the end). */
    async function uploadsLeft(): Promise<number> {
      let left = 0;
      const deadline = Date.now() + 2000;
      do {
        const [row] = await queryRows<{ n: number }>(
          block.harness.runtime.database.db,
          sql`select (select count(*)::int from uploads) + (select count(*)::int from upload_chunks) as n`,
        );
        left = row?.n ?? 0;
        if (left > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      } while (left > 0 && Date.now() < deadline);
      return left;
    }

    function csvForm(csv: string): FormData {
      const form = new FormData();
      form.append('file', new Blob([csv], { type: 'text/csv' }), 'users.csv');
      return form;
    }

    it('import through PostgreSQL, and the upload is gone from it once the import ends', async () => {
      const { api, worker } = await deploy();
      const rows = 5000;
      const id = await post(api, csvForm(generateCsv(rows, 'apart')));
      const view = await ended(api, id, () => api.output() + worker.output());
      expect(view).toMatchObject({ status: 'completed', createdRows: rows, invalidRows: 0 });
      expect(await uploadsLeft()).toBe(0);
    });

    it('with UPLOAD_STORAGE=disk, fail the import, and the worker says why at warn', async () => {
      const { api, worker } = await deploy('disk');
      const id = await post(api, csvForm(generateCsv(10, 'on-disk')));
      const view = await ended(api, id, () => api.output() + worker.output());
      expect(view).toMatchObject({ status: 'failed', failureReason: 'The uploaded file could not be read.' });
      const warning = worker
        .output()
        .split('\n')
        .find((line) => line.includes('the upload of an import is missing'));
      expect(warning, worker.output()).toBeDefined();
      expect(JSON.parse(warning as string)).toMatchObject({
        level: 40,
        importId: id,
        reason: expect.stringMatching(/ENOENT/),
      });
    });

    // The api's peak resident memory (VmHWM) while it receives 100 MB: flat if the upload streams to
    // the database a chunk at a time, a few hundred MB if anything held it whole.
    it.runIf(process.platform === 'linux')('take a 100 MB upload in flat memory', { timeout: 120_000 }, async () => {
      const { api, worker } = await deploy();
      const peak = async () => {
        const status = await readFile(`/proc/${api.child.pid}/status`, 'utf8');
        return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
      };
      const before = await peak();
      const boundary = 'tokenpool-100mb';
      // Text with no e-mail column: the import fails after reading the file, and removes it.
      const block64k = Buffer.from('Name,555-0100\n'.repeat(Math.floor(65_536 / 14)));
      const blocks = Math.floor(100_000_000 / block64k.length);
      const parts = (function* () {
        yield Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n` +
            'Content-Type: text/csv\r\n\r\nname,phone\n',
        );
        for (let n = 0; n < blocks; n += 1) yield block64k;
        yield Buffer.from(`\r\n--${boundary}--\r\n`);
      })();
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = parts.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        },
      });
      const id = await post(api, body, `multipart/form-data; boundary=${boundary}`);
      const after = await peak();
      // Less than the file itself: a process holding it whole could not be. Streamed, it grows by
      // what the garbage collector lets pile up (about 65 MiB here, 30 MiB when it goes to disk).
      const grown = `${((after - before) / 2 ** 20).toFixed(0)} MiB over ${(before / 2 ** 20).toFixed(0)} MiB`;
      expect(after - before, grown).toBeLessThan(100 * 2 ** 20);

      const view = await ended(api, id, () => api.output() + worker.output());
      expect(view).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/no email/) });
      expect(await uploadsLeft()).toBe(0);
    });
  },
);
