import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startProcess } from '../test/helpers/processes.js';
import { deleteRedisKeys } from '../test/helpers/redis-keys.js';
import { type LoadResult, loadGenerator, runLoad } from './load.js';
import { dropDatabase, freshDatabase, pgbench, psql } from './pg.js';

const CONNECTIONS = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_MS = 2000;

// The minimal lease: one statement taking the free-or-oldest token, as the issue defines the baseline.
const BASELINE_SQL = `UPDATE bench_tokens SET holder_id = gen_random_uuid(), leased_at = clock_timestamp(),
  expires_at = clock_timestamp() + interval '120 seconds'
  WHERE id = (SELECT id FROM bench_tokens ORDER BY leased_at NULLS FIRST, id LIMIT 1 FOR UPDATE SKIP LOCKED)
  RETURNING id;`;

async function baseline(base: string, poolSize: number) {
  const name = 'tokenpool_bench_baseline';
  const url = await freshDatabase(base, name);
  await psql(
    url,
    `create table bench_tokens (id uuid primary key default gen_random_uuid(), holder_id uuid,
       leased_at timestamptz, expires_at timestamptz);
     create index on bench_tokens (leased_at nulls first, id);
     insert into bench_tokens (id) select gen_random_uuid() from generate_series(1, ${poolSize});`,
  );
  const dir = await mkdtemp(join(tmpdir(), 'tokenpool-bench-'));
  const script = join(dir, 'lease.sql');
  await writeFile(script, `${BASELINE_SQL.replace(/\n\s*/g, ' ')}\n`);
  const result = await pgbench(url, script, CONNECTIONS, SECONDS);
  await rm(dir, { recursive: true, force: true });
  await dropDatabase(base, name);
  return result;
}

async function bareFastify(): Promise<LoadResult> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', new URL('./bare-server.ts', import.meta.url).pathname, String(port)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await once(child.stdout, 'data');
  const result = await runLoad({
    url: `http://127.0.0.1:${port}/lease`,
    method: 'POST',
    freshUserId: true,
    connections: CONNECTIONS,
    durationMs: SECONDS * 1000,
    warmupMs: WARMUP_MS,
  });
  child.kill('SIGTERM');
  await once(child, 'exit');
  return result;
}

type Target = 'lease' | 'me';
/** What the load authenticates with: the admin's access token, or an API key of the admin's. */
type Credential = 'access-token' | 'api-key';

/** An API key of the signed-in admin's that may lease for anyone (leases take a new userId each). */
async function apiKeyFor(apiUrl: string, accessToken: string): Promise<string> {
  const created = await fetch(`${apiUrl}/api/v1/api-keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({ name: 'bench', scopes: ['tokens:lease', 'pools:admin'] }),
  });
  if (created.status !== 201) throw new Error(`could not make an API key: ${created.status} ${await created.text()}`);
  return ((await created.json()) as { key: string }).key;
}

async function service(
  base: string,
  redisUrl: string,
  poolSize: number,
  processes: number,
  target: Target = 'lease',
  credential: Credential = 'access-token',
): Promise<LoadResult> {
  const name = `tokenpool_bench_service_${poolSize}_${processes}_${target}_${credential.replace('-', '_')}`;
  const url = await freshDatabase(base, name);
  const dataDir = await mkdtemp(join(tmpdir(), 'tokenpool-bench-'));
  const admin = { email: 'bench@example.com', password: 'bench password' };
  const redisPrefix = `tokenpool-bench-${poolSize}`;
  const api = await startProcess(
    'api',
    {
      NODE_ENV: 'production',
      // No SMTP server here: e-mails stay files.
      MAIL_TRANSPORT: 'outbox',
      JWT_SECRET: 'a benchmark secret that is at least thirty-two bytes long',
      DATABASE_URL: url,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: redisPrefix,
      DATA_DIR: dataDir,
      TOKEN_POOL_SIZE: String(poolSize),
      WEB_CONCURRENCY: String(processes),
      ADMIN_EMAIL: admin.email,
      ADMIN_PASSWORD: admin.password,
    },
    'warn',
  );
  try {
    const login = await fetch(`${api.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(admin),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const bearer = credential === 'api-key' ? await apiKeyFor(api.url, accessToken) : accessToken;
    const request =
      target === 'lease'
        ? {
            url: `${api.url}/api/v1/tokens/lease`,
            method: 'POST',
            freshUserId: true,
          }
        : { url: `${api.url}/api/v1/users/me` };
    return await runLoad({
      ...request,
      headers: { authorization: `Bearer ${bearer}` },
      connections: CONNECTIONS,
      durationMs: SECONDS * 1000,
      warmupMs: WARMUP_MS,
    });
  } finally {
    await api.stop('SIGTERM');
    await rm(dataDir, { recursive: true, force: true });
    await dropDatabase(base, name);
    await deleteRedisKeys(redisUrl, redisPrefix);
  }
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

interface Run {
  /** What `BENCH_TOKENS=…` names it by, to run a few while working on one. */
  key: string;
  label: string;
  expected: string;
  /** Compared with the baseline: leases are, reads are not. */
  ratio: boolean;
  run(): Promise<LoadResult>;
}

export async function tokensBenchmark(base: string, redisUrl: string): Promise<string> {
  const only = process.env.BENCH_TOKENS?.split(',');
  const runs: Run[] = [
    { key: 'bare', label: 'bare Fastify route, same load generator', expected: '200', ratio: true, run: bareFastify },
    ...[
      { key: 'lease', pool: 100, processes: 1 },
      { key: 'lease-large', pool: 100_000, processes: 1 },
      { key: 'lease-2', pool: 100, processes: 2 },
      { key: 'lease-large-2', pool: 100_000, processes: 2 },
      { key: 'lease-key', pool: 100, processes: 1, credential: 'api-key' as const },
      { key: 'lease-large-key', pool: 100_000, processes: 1, credential: 'api-key' as const },
    ].map(({ key, pool, processes, credential = 'access-token' as Credential }) => ({
      key,
      label: `POST /tokens/lease, pool ${pool.toLocaleString('en')}, ${processes === 1 ? '1 process' : `WEB_CONCURRENCY=${processes}`}${credential === 'api-key' ? ', with an API key' : ''}`,
      expected: '201',
      ratio: true,
      run: () => service(base, redisUrl, pool, processes, 'lease', credential),
    })),
    // A read that takes no lock: what a second HTTP process does where the pool's lock does not decide.
    ...[1, 2].map((processes) => ({
      key: processes === 1 ? 'me' : 'me-2',
      label: `GET /users/me, ${processes === 1 ? '1 process' : `WEB_CONCURRENCY=${processes}`}`,
      expected: '200',
      ratio: false,
      run: () => service(base, redisUrl, 100, processes, 'me'),
    })),
  ].filter((run) => !only || only.includes(run.key));

  const pg = await baseline(base, 100);
  const results = new Map<string, LoadResult>();
  for (const run of runs) results.set(run.key, await run.run());
  const rows = [
    ['pgbench: one-statement lease, pool 100 (baseline)', fmt(pg.tps, 0), '—', `${fmt(pg.latencyMs, 2)} (avg)`, '1.00'],
    ...runs.map((run) => {
      const r = results.get(run.key) as LoadResult;
      return [run.label, fmt(r.rps, 0), fmt(r.p50, 2), fmt(r.p99, 2), run.ratio ? fmt(r.rps / pg.tps, 2) : '—'];
    }),
  ];
  const errors = runs.flatMap((run) =>
    Object.entries((results.get(run.key) as LoadResult).statuses).filter(([status]) => status !== run.expected),
  );
  const compare = (a: string, b: string, what: string) => {
    const x = results.get(a);
    const y = results.get(b);
    return x && y ? [`${what}: ${fmt(y.rps / x.rps, 2)}x`] : [];
  };
  const generator =
    (await loadGenerator()) === 'wrk' ? 'wrk' : 'the Node loop in bench/load.ts (install wrk for less noise)';
  return [
    `tokens: ${CONNECTIONS} connections, ${SECONDS} s each after ${WARMUP_MS / 1000} s warm-up, new userId per request, load from ${generator}`,
    '',
    '| run | req/s | p50 ms | p99 ms | ratio to baseline |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
    ...compare('lease', 'lease-2', 'leases per second at pool 100 (every lease evicts), two HTTP processes vs one'),
    ...compare(
      'lease-large',
      'lease-large-2',
      'leases per second at pool 100,000 (free tokens, mostly), two HTTP processes vs one',
    ),
    ...compare('me', 'me-2', 'reads of /users/me per second, two HTTP processes vs one'),
    ...compare('lease', 'lease-key', 'leases per second at pool 100, an API key vs an access token'),
    ...compare('lease-large', 'lease-large-key', 'leases per second at pool 100,000, an API key vs an access token'),
    errors.length > 0
      ? `failed answers: ${JSON.stringify(errors)}`
      : 'every answer succeeded (201 for leases, 200 for reads)',
  ].join('\n');
}
