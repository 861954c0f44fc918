import { openAsBlob } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess } from '../test/helpers/processes.js';
import { dropDatabase, freshDatabase, psql } from './pg.js';

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 1_000_000);

/** A CSV of unique users, one name in ten quoted with a comma inside. */
async function writeCsv(file: string, rows: number): Promise<number> {
  const lines: string[] = ['name,email,birth_date'];
  for (let i = 0; i < rows; i += 1) {
    const name = i % 10 === 0 ? `"Doe, Jane ${i}"` : `User Number ${i}`;
    lines.push(`${name},user${i}@bench.example.com,19${String(50 + (i % 50))}-0${(i % 9) + 1}-1${i % 10}`);
  }
  const text = `${lines.join('\n')}\n`;
  await writeFile(file, text);
  return Buffer.byteLength(text);
}

/** Peak resident memory of a process, from the kernel's high-water mark. */
async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/VmHWM:\s+(\d+) kB/)?.[1]) / 1024;
}

async function copyBaseline(base: string, file: string): Promise<number> {
  const name = 'tokenpool_bench_copy';
  const url = await freshDatabase(base, name);
  // The users table of the service, by its own migrations, then an empty copy with the same indexes.
  await psql(
    url,
    `create table users_copy (id uuid primary key default gen_random_uuid(), name text not null,
       email text not null, password_hash text, birth_date date, role text not null default 'user',
       email_verified_at timestamptz, created_at timestamptz not null default now(),
       updated_at timestamptz not null default now());
     create unique index on users_copy (email);
     create index on users_copy (created_at desc, id desc);`,
  );
  const started = performance.now();
  await psql(url, `\\copy users_copy (name, email, birth_date) from '${file}' with (format csv, header true)`);
  const seconds = (performance.now() - started) / 1000;
  await dropDatabase(base, name);
  return seconds;
}

async function serviceImport(base: string, redisUrl: string, file: string) {
  const name = 'tokenpool_bench_import';
  const url = await freshDatabase(base, name);
  const dataDir = await mkdtemp(join(tmpdir(), 'tokenpool-bench-'));
  const env = {
    NODE_ENV: 'production',
    JWT_SECRET: 'a benchmark secret that is at least thirty-two bytes long',
    DATABASE_URL: url,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: 'tokenpool-bench-import',
    DATA_DIR: dataDir,
    ADMIN_EMAIL: 'bench@example.com',
    ADMIN_PASSWORD: 'bench password',
    MAX_UPLOAD_BYTES: String(1024 * 1024 * 1024),
  };
  const api = await startProcess('api', env, 'warn');
  const worker = await startProcess('worker', env);
  try {
    const login = await fetch(`${api.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const headers = { authorization: `Bearer ${accessToken}` };
    const started = performance.now();
    const form = new FormData();
    form.append('file', await openAsBlob(file), 'bench.csv');
    const uploaded = await fetch(`${api.url}/api/v1/users/imports`, { method: 'POST', headers, body: form });
    const { id } = (await uploaded.json()) as { id: string };
    const uploadSeconds = (performance.now() - started) / 1000;
    for (;;) {
      const view = (await (await fetch(`${api.url}/api/v1/users/imports/${id}`, { headers })).json()) as {
        status: string;
        createdRows: number;
      };
      if (view.status === 'completed' || view.status === 'failed') {
        if (view.createdRows !== ROWS) throw new Error(`import ended ${view.status} with ${view.createdRows} rows`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const seconds = (performance.now() - started) / 1000;
    const rss = await peakRssMb(worker.child.pid as number);
    return { seconds, uploadSeconds, rss };
  } finally {
    await worker.stop('SIGTERM');
    await api.stop('SIGTERM');
    await rm(dataDir, { recursive: true, force: true });
    await dropDatabase(base, name);
  }
}

export async function importBenchmark(base: string, redisUrl: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tokenpool-bench-csv-'));
  const file = join(dir, 'users.csv');
  const bytes = await writeCsv(file, ROWS);
  try {
    const copy = await copyBaseline(base, file);
    const service = await serviceImport(base, redisUrl, file);
    const fmt = (n: number, digits = 1) => n.toFixed(digits);
    return [
      `import: ${ROWS.toLocaleString('en')} rows, ${fmt(bytes / 1024 / 1024)} MiB, unique e-mails, one name in ten quoted`,
      '',
      '| run | seconds | rows/s | ratio to baseline |',
      '| --- | ---: | ---: | ---: |',
      `| psql \\copy into an empty users table with its indexes (baseline) | ${fmt(copy, 2)} | ${fmt(ROWS / copy, 0)} | 1.00 |`,
      `| service: upload + queue + worker + every row committed | ${fmt(service.seconds, 2)} | ${fmt(ROWS / service.seconds, 0)} | ${fmt(service.seconds / copy, 2)} |`,
      '',
      `upload alone: ${fmt(service.uploadSeconds, 2)} s; worker peak RSS: ${fmt(service.rss, 0)} MB`,
    ].join('\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
