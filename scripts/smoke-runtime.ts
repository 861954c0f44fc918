import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { type SmtpMailbox, startSmtpMailbox } from '../test/helpers/mailbox.js';
import { collectOutput, freePort, waitFor } from '../test/helpers/processes.js';
import { copyContext, healthcheckCommand, parseDockerfile, replayStage } from './dockerfile-stages.js';

// `tsx scripts/smoke-runtime.ts` (in .ci/run): the Docker image's layout, checked without a Docker
// engine. Replays the Dockerfile's stages in an empty temporary directory (the build context its
// .dockerignore lets in; `npm ci && npm run build`; `npm ci --omit=dev`; the runtime stage's
// COPY lines), then runs the image's processes from what the runtime stage holds, with its ENV,
// the way compose.yaml does (`migrate`, `create-admin`, `api` and `worker` with --no-migrate)
// against a new database on DATABASE_URL's server, a new key prefix on REDIS_URL and an
// in-process SMTP server, and walks a user through ready, register, login, lease and the welcome
// e-mail. What it cannot check: the base image, tini, the non-root user, the HEALTHCHECK's timing.

const repo = new URL('..', import.meta.url).pathname;
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PASSWORD = 'correct horse battery';
const started = performance.now();
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

let passed = 0;
async function check<T>(name: string, step: () => Promise<T>): Promise<T> {
  const since = performance.now();
  const result = await step();
  passed += 1;
  console.log(`ok ${passed} - ${name} (${seconds(since)})`);
  return result;
}

interface Running {
  child: ChildProcess;
  output: () => string;
}

const work = await mkdtemp(join(tmpdir(), 'tokenpool-image-'));
const suffix = randomBytes(4).toString('hex');
const database = `tokenpool_image_${suffix}`;
const prefix = `tokenpool-image-${suffix}`;
const processes: Running[] = [];
let mailbox: SmtpMailbox | undefined;
let databaseMade = false;

function start(app: string, args: string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['dist/cli.js', ...args], {
    cwd: app,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const running = { child, output: collectOutput(child) };
  processes.push(running);
  return running;
}

async function runToEnd(app: string, args: string[], env: Record<string, string>): Promise<string> {
  const running = start(app, args, env);
  const [code] = (await once(running.child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${args.join(' ')} exited with ${code}:\n${running.output()}`);
  return running.output();
}

async function ready(url: string, running: Running): Promise<void> {
  await waitFor(
    async () => {
      if (running.child.exitCode !== null) throw new Error(`exited with ${running.child.exitCode}`);
      return fetch(`${url}/health/ready`).then(
        (response) => response.ok,
        () => false,
      );
    },
    30_000,
    () => `not ready within 30 s:\n${running.output()}`,
  );
}

async function call(url: string, method: string, body?: unknown, token?: string) {
  const response = await fetch(url, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: () => JSON.parse(text) as Record<string, unknown>, text };
}

function expectStatus(response: { status: number; text: string }, status: number): void {
  if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}: ${response.text}`);
}

try {
  console.log(
    `replaying the Dockerfile's stages in ${work} (Node ${process.version}; the image's is the Dockerfile's)`,
  );
  const app = await check('the stages replay: context, build, production dependencies, runtime', async () => {
    const context = join(work, 'context');
    await copyContext(repo, context);
    const stages = parseDockerfile(await readFile(join(repo, 'Dockerfile'), 'utf8'));
    const stageDirs = new Map<string, string>();
    let env: Record<string, string> = {};
    for (const [index, stage] of stages.entries()) {
      const dir = join(work, stage.name);
      env = await replayStage(stage, { dir, context, stageDirs, run: index < stages.length - 1, log: console.log });
      stageDirs.set(stage.name, dir);
    }
    const image = stages.at(-1);
    if (!image) throw new Error('the Dockerfile has no stage');
    return { dir: stageDirs.get(image.name) as string, env, healthcheck: healthcheckCommand(image) };
  });
  await check('the image holds no dev dependency and no source', async () => {
    for (const absent of ['node_modules/vitest', 'node_modules/typescript', 'src', 'test', '.env']) {
      if (existsSync(join(app.dir, absent))) throw new Error(`${absent} is in the image`);
    }
  });

  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${database}`);
  databaseMade = true;
  await admin.end();
  mailbox = await startSmtpMailbox();
  const [port, workerPort] = [await freePort(), await freePort()];
  const env = {
    ...app.env,
    // The image's /app paths, moved to where the stages were replayed; loopback only, here.
    DATA_DIR: join(app.dir, 'data'),
    HOST: '127.0.0.1',
    PORT: String(port),
    WORKER_PORT: String(workerPort),
    PUBLIC_URL: `http://localhost:${port}`,
    JWT_SECRET: randomBytes(48).toString('base64'),
    DATABASE_URL: Object.assign(new URL(serverUrl), { pathname: `/${database}` }).toString(),
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    SMTP_URL: mailbox.smtpUrl,
    WEB_CONCURRENCY: '1',
  };
  if (app.env.NODE_ENV !== 'production') throw new Error(`the image sets NODE_ENV=${app.env.NODE_ENV}, not production`);

  await check('migrate applies every migration', async () => {
    const output = await runToEnd(app.dir, ['migrate'], env);
    if (!/"msg":"applied \d+ migrations"/.test(output)) throw new Error(`no "applied N migrations":\n${output}`);
  });
  await check('create-admin as the README writes it', () =>
    runToEnd(app.dir, ['create-admin', '--email', 'root@example.com'], { ...env, ADMIN_PASSWORD: PASSWORD }),
  );
  const api = start(app.dir, ['api', '--no-migrate'], env);
  const worker = start(app.dir, ['worker', '--no-migrate'], env);
  const base = `http://127.0.0.1:${port}`;
  const v1 = `${base}/api/v1`;
  await check('api and worker are ready', async () => {
    await ready(base, api);
    await ready(`http://127.0.0.1:${workerPort}`, worker);
  });
  await check("the image's HEALTHCHECK passes for api and for worker", async () => {
    const [command = '', ...args] = app.healthcheck;
    const closed = String(await freePort());
    for (const ports of [
      { PORT: String(port), WORKER_PORT: closed },
      { PORT: closed, WORKER_PORT: String(workerPort) },
    ]) {
      const child = spawn(command, args, {
        cwd: app.dir,
        env: { PATH: process.env.PATH ?? '', ...env, ...ports },
        stdio: 'inherit',
      });
      const [code] = (await once(child, 'exit')) as [number | null];
      if (code !== 0) throw new Error(`HEALTHCHECK exited with ${code} for ${JSON.stringify(ports)}`);
    }
  });
  await check('the dashboard, its bundle and the API document are served', async () => {
    const page = await call(`${base}/`, 'GET');
    expectStatus(page, 200);
    const script = page.text.match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
    if (!script) throw new Error(`no script in the dashboard's page:\n${page.text}`);
    expectStatus(await call(`${base}${script}`, 'GET'), 200);
    expectStatus(await call(`${base}/openapi.json`, 'GET'), 200);
  });
  const email = `image-${suffix}@example.com`;
  await check('register', async () =>
    expectStatus(await call(`${v1}/auth/register`, 'POST', { name: 'Ada', email, password: PASSWORD }), 201),
  );
  const token = await check('login', async () => {
    const login = await call(`${v1}/auth/login`, 'POST', { email, password: PASSWORD });
    expectStatus(login, 200);
    return login.json().accessToken as string;
  });
  await check('lease a token', async () => expectStatus(await call(`${v1}/tokens/lease`, 'POST', {}, token), 201));
  await check('the worker sends the welcome e-mail and the jobs table drains', async () => {
    const welcome = await mailbox?.waitFor(email, 'Welcome', 20_000);
    if (!welcome?.links[0]?.startsWith(`${env.PUBLIC_URL}/verify-email?token=`)) throw new Error('no verify link');
    const db = new pg.Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    try {
      // A job is `relayed` once BullMQ has it; `pending` would be one no process relayed.
      await waitFor(
        async () => (await db.query("select 1 from jobs where status in ('pending', 'failed')")).rowCount === 0,
        10_000,
        () => 'jobs are left pending or failed',
      );
    } finally {
      await db.end();
    }
  });
  await check('the admin made by create-admin signs in', async () =>
    expectStatus(await call(`${v1}/auth/login`, 'POST', { email: 'root@example.com', password: PASSWORD }), 200),
  );
  await check('SIGTERM stops api and worker cleanly', async () => {
    for (const { child } of [api, worker]) child.kill('SIGTERM');
    const codes = await Promise.all([api, worker].map(async ({ child }) => (await once(child, 'exit'))[0]));
    if (codes.some((code) => code !== 0)) throw new Error(`exit codes ${codes.join(', ')}`);
  });
  console.log(`runtime image smoke test done in ${seconds(started)}`);
  console.log(`smoke: ${passed} passed, 0 failed`);
} catch (error) {
  console.error(`not ok ${passed + 1} - ${error instanceof Error ? error.message : String(error)}`);
  for (const { child, output } of processes) console.error(`--- ${child.spawnargs.slice(1).join(' ')}\n${output()}`);
  console.log(`smoke: ${passed} passed, 1 failed`);
  process.exitCode = 1;
} finally {
  for (const { child } of processes) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await mailbox?.close();
  await cleanUp().catch((error: unknown) => console.error(`cleaning up: ${String(error)}`));
}

async function cleanUp(): Promise<void> {
  await rm(work, { recursive: true, force: true });
  if (databaseMade) {
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.end();
  }
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}
