import { randomBytes } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type ServiceProcess, startProcess } from '../test/helpers/processes.js';
import { deleteRedisKeys } from '../test/helpers/redis-keys.js';
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

function serviceEnv(url: string, redisUrl: string, dataDir: string) {
  return {
    // A prefix of its own, so that nothing of this run mixes with another's keys.
    REDIS_PREFIX: `tokenpool-bench-import-${randomBytes(4).toString('hex')}`,
    NODE_ENV: 'production',
    // No SMTP server here: the welcome e-mails stay files.
    MAIL_TRANSPORT: 'outbox',
    JWT_SECRET: 'a benchmark secret that is at least thirty-two bytes long',
    DATABASE_URL: url,
    REDIS_URL: redisUrl,
    DATA_DIR: dataDir,
    ADMIN_EMAIL: 'bench@example.com',
    ADMIN_PASSWORD: 'bench password',
    MAX_UPLOAD_BYTES: String(1024 * 1024 * 1024),
  };
}

async function copyBaseline(base: string, redisUrl: string, file: string): Promise<number> {
  const name = 'tokenpool_bench_copy';
  const url = await freshDatabase(base, name);
  const dataDir = await mkdtemp(join(tmpdir(), 'tokenpool-bench-'));
  try {
    // The users table of the service, by its own migrations, then an empty copy of it: same
    // columns, defaults (a random uuid key), checks and indexes.
    const migrated = await runCli(['migrate'], { ...serviceEnv(url, redisUrl, dataDir), LOG_LEVEL: 'warn' });
    if (migrated.code !== 0) throw new Error(`migrate failed:\n${migrated.stderr}`);
    await psql(url, 'create table users_copy (like users including all)');
    await settle(base);
    const started = performance.now();
    await psql(url, `\\copy users_copy (name, email, birth_date) from '${file}' with (format csv, header true)`);
    return (performance.now() - started) / 1000;
  } finally {
    await rm(dataDir, { recursive: true, force: true });
    await dropDatabase(base, name);
  }
}

/**
 * Each timed run starts from a checkpoint: none pays for writing out the pages the one before
 * dirtied (a million rows, and the dropped database's).
 */
async function settle(base: string): Promise<void> {
  await psql(base, 'checkpoint');
}

type Topology = 'api + worker' | 'serve';

interface ServiceRun {
  seconds: number;
  uploadSeconds: number;
  /** Peak RSS of each service process, by its command. */
  rss: Record<string, number>;
}

/**
 * The service end to end: upload, queue, job, every row committed. `api + worker` is the
 * production topology, one process each; `serve` is `npm start` as one process
 * (`WEB_CONCURRENCY=1`), the API and the jobs sharing it.
 */
async function serviceImport(base: string, redisUrl: string, file: string, topology: Topology): Promise<ServiceRun> {
  const name = 'tokenpool_bench_import';
  const url = await freshDatabase(base, name);
  const dataDir = await mkdtemp(join(tmpdir(), 'tokenpool-bench-'));
  const env = { ...serviceEnv(url, redisUrl, dataDir), WEB_CONCURRENCY: '1' };
  const processes: Record<string, ServiceProcess> = {};
  try {
    if (topology === 'serve') processes.serve = await startProcess('serve', env, 'warn');
    else {
      processes.api = await startProcess('api', env, 'warn');
      processes.worker = await startProcess('worker', env);
    }
    const apiUrl = (processes.serve ?? processes.api)?.url as string;
    const login = await fetch(`${apiUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const headers = { authorization: `Bearer ${accessToken}` };
    await settle(base);
    const started = performance.now();
    const form = new FormData();
    form.append('file', await openAsBlob(file), 'bench.csv');
    const uploaded = await fetch(`${apiUrl}/api/v1/users/imports`, { method: 'POST', headers, body: form });
    const { id } = (await uploaded.json()) as { id: string };
    const uploadSeconds = (performance.now() - started) / 1000;
    for (;;) {
      const view = (await (await fetch(`${apiUrl}/api/v1/users/imports/${id}`, { headers })).json()) as {
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
    const rss: Record<string, number> = {};
    for (const [command, service] of Object.entries(processes)) {
      rss[command] = await peakRssMb(service.child.pid as number);
    }
    return { seconds, uploadSeconds, rss };
  } finally {
    for (const service of Object.values(processes).reverse()) await service.stop('SIGTERM');
    await deleteRedisKeys(redisUrl, env.REDIS_PREFIX);
    await rm(dataDir, { recursive: true, force: true });
    await dropDatabase(base, name);
  }
}

export async function importBenchmark(base: string, redisUrl: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tokenpool-bench-csv-'));
  const file = join(dir, 'users.csv');
  const bytes = await writeCsv(file, ROWS);
  try {
    const copy = await copyBaseline(base, redisUrl, file);
    const runs: Array<[Topology, ServiceRun]> = [];
    for (const topology of ['api + worker', 'serve'] as const) {
      runs.push([topology, await serviceImport(base, redisUrl, file, topology)]);
    }
    const fmt = (n: number, digits = 1) => n.toFixed(digits);
    return [
      `import: ${ROWS.toLocaleString('en')} rows, ${fmt(bytes / 1024 / 1024)} MiB, unique e-mails, one name in ten quoted`,
      '',
      '| run | seconds | rows/s | ratio to baseline | peak RSS (MB) |',
      '| --- | ---: | ---: | ---: | --- |',
      `| psql \\copy into an empty \`users_copy\` (LIKE users INCLUDING ALL) (baseline) | ${fmt(copy, 2)} | ${fmt(ROWS / copy, 0)} | 1.00 | |`,
      ...runs.map(
        ([topology, run]) =>
          `| service, ${topology}: upload + queue + job + every row committed | ${fmt(run.seconds, 2)} | ${fmt(ROWS / run.seconds, 0)} | ${fmt(run.seconds / copy, 2)} | ${Object.entries(
            run.rss,
          )
            .map(([command, mb]) => `${command} ${fmt(mb, 0)}`)
            .join(', ')} |`,
      ),
      '',
      `upload alone: ${runs.map(([topology, run]) => `${fmt(run.uploadSeconds, 2)} s (${topology})`).join(', ')}`,
    ].join('\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
